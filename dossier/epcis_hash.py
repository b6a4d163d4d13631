"""CBV 2.0 event hashes (``ni:///sha-256;…?ver=CBV2.0``) for the EPCIS export, and the check
of a document against GS1's EPCIS 2.0 JSON Schema.

The hash is epcis-event-hash-generator's: it reads a JSON-LD document, canonicalises every
event (GS1 keys to Digital Link URIs, bare CBV words to their web vocabulary, times to UTC
milliseconds, lists sorted) and hashes the canonical text. It spends some 100 µs on each EPC
(JSON-LD expansion, a regular expression, copies), which is minutes for a batch of a million.
It also expands the whole document as JSON-LD, some 7 ms an event: minutes for a batch's 20,000
cartons. So ``event_ids`` hands the library one event of each shape (events that differ only in
their parent and their EPCs: a batch's cartons), its EPC lists cut to their first EPC, and puts
each event's own parent (canonicalised by the library's normaliser) and whole sorted EPC lists
into the canonical text the library wrote: the library still canonicalises every other field
and the first EPC of each list, and the rest of a list is canonicalised the way the library
canonicalised the first (the same GTIN prefix, the serial unchanged: used only where the serial
has no character the library would escape; any other EPC goes through the library's own
normaliser). ``event_ids_recomputed`` is the library alone on
the whole document; the tests hold the two to each other.

The JSON-LD context is never fetched: GS1's context, vendored unchanged in ``dossier/standards``,
answers for the URL the document names, and any other URL is refused rather than downloaded.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from epcis_event_hash_generator import hash_generator, json_to_py  # type: ignore[import-untyped]
from epcis_event_hash_generator.dl_normaliser import normaliser  # type: ignore[import-untyped]
from pyld import jsonld  # type: ignore[import-untyped]

# The EPC lists of the events this portal writes, as the library names them in its text.
EPC_LISTS = ("epcList", "childEPCs")
_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def _offline_loader() -> Any:
    """GS1's context (vendored in ``dossier/standards``) for its URL; any other URL is refused,
    never fetched."""
    context = json.loads((Path(__file__).parent / "standards" / "epcis-context.jsonld").read_text())

    def loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if url != _CONTEXT_URL:
            raise jsonld.JsonLdError(
                f"The EPCIS export never fetches {url}.", "jsonld.LoadDocumentError"
            )
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": context,
        }

    return loader


jsonld.set_document_loader(_offline_loader())


def _ni(prehash: str) -> str:
    return f"ni:///sha-256;{hashlib.sha256(prehash.encode('utf-8')).hexdigest()}?ver=CBV2.0"


@contextmanager
def _quiet() -> Iterator[None]:
    """The library logs every event it reads, EPC by EPC, at INFO on the root logger: a
    million lines for a big batch. Its INFO and DEBUG are held back while it runs (for the
    whole process, briefly: ``logging.disable`` is global); warnings still pass."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


def _prehashes(document: dict[str, Any]) -> list[str]:
    with _quiet():
        events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
        return hash_generator.derive_prehashes_from_events(events)


def event_ids_recomputed(document: dict[str, Any]) -> list[str]:
    """Every event's CBV 2.0 hash, by epcis-event-hash-generator alone on the whole document."""
    return [_ni(prehash) for prehash in _prehashes(document)]


def _canonical_epcs(epcs: list[str]) -> list[str]:
    """Each EPC in the library's canonical form, ``epc=`` + Digital Link URI, sorted."""
    first = normaliser(epcs[0])
    # An SGTIN URI's serial starts after its 32nd character (the library cuts it there too).
    head, serial = epcs[0][:32], epcs[0][32:]
    stem = "epc=" + (first or "")[: len(first or "") - len(serial)]
    # One regular expression over the whole list: every EPC is the first's GTIN and a serial
    # the library's Digital Link form keeps as it is.
    plain = (
        first is not None
        and head.startswith("urn:epc:id:sgtin:")
        and first.endswith(f"/21/{serial}")
        and re.fullmatch(rf"(?:{re.escape(head)}[A-Za-z0-9._-]*\n)*", "\n".join(epcs) + "\n")
    )
    if plain:
        out = [stem + epc[32:] for epc in epcs]
    else:
        out = [f"epc={normaliser(epc) or epc}" for epc in epcs]
    out.sort()
    return out


def _shape(event: dict[str, Any]) -> str:
    """What an event holds besides its parent and its EPCs: events of one shape differ in the
    library's canonical text only there (a batch's 20,000 cartons are one shape)."""
    skip = ("eventID", "parentID", *EPC_LISTS)  # the hash never reads the eventID
    rest = {key: value for key, value in event.items() if key not in skip}
    return json.dumps([rest, "parentID" in event, [bool(event.get(k)) for k in EPC_LISTS]])


def _swap(prehash: str, old: str, new: str) -> str:
    if prehash.count(old) != 1:
        raise ValueError(f"The canonical text of an event has not one {old[:40]!r}.")
    return prehash.replace(old, new)


def event_ids(context: Any, events: list[dict[str, Any]]) -> list[str]:
    """The CBV 2.0 hash of each event (see the module's docstring for how): the library writes
    the canonical text of one event of each shape, its EPC lists cut to their first EPC; each
    event of the shape gets that text with its own parent and its own EPC lists put in."""
    shapes: dict[str, int] = {}
    samples: list[dict[str, Any]] = []
    of_event = []
    for event in events:
        shape = _shape(event)
        if shape not in shapes:
            shapes[shape] = len(samples)
            sample = {key: value for key, value in event.items() if key != "eventID"}
            for key in EPC_LISTS:
                if event.get(key):
                    sample[key] = event[key][:1]
            samples.append(sample)
        of_event.append(shapes[shape])
    texts = _prehashes(
        {
            "@context": context,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2000-01-01T00:00:00Z",
            "epcisBody": {"eventList": samples},
        }
    )
    if len(texts) != len(samples):
        raise ValueError("The event hash generator could not read every event.")
    ids = []
    for event, index in zip(events, of_event, strict=True):
        sample, prehash = samples[index], texts[index]
        if "parentID" in event:
            old, new = (normaliser(p) or p for p in (sample["parentID"], event["parentID"]))
            prehash = _swap(prehash, f"parentID={old}", f"parentID={new}")
        for key in EPC_LISTS:
            if event.get(key):
                one = f"{key}{_canonical_epcs(sample[key])[0]}"
                prehash = _swap(prehash, one, key + "".join(_canonical_epcs(event[key])))
        ids.append(_ni(prehash))
    return ids


def schema_path() -> Path:
    """GS1's EPCIS 2.0 JSON Schema, beside the repository (``../shared/standards``)."""
    return (
        Path(settings.BASE_DIR).parent
        / "shared"
        / "standards"
        / "epcis-2.0"
        / ("EPCIS-JSON-Schema.json")
    )


@cache
def _validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def epcis_schema_errors(document: dict[str, Any]) -> list[str] | None:
    """What GS1's schema finds wrong with the document (empty: valid); None when the schema is
    not beside the repository, so the check was not run."""
    if not schema_path().is_file():
        return None
    errors = _validator().iter_errors(document)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(document)'}: {error.message}"
        for error in errors
    ]
