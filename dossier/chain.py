"""What the dossier carries of the audit chain: the order's events with their hashes, the
checkpoint lines that seal them, their RFC 3161 tokens and the authority's CA, and how to check
them without the portal."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from dossier.archive import Writer, safe_name
from orders.models import PurchaseOrder
from portal import anchors
from portal.integrity_runs import integrity_run_latest_line

CHAIN_DIR = "integrity"


@dataclass
class Chain:
    """What the dossier carries of the audit chain and its checkpoints."""

    events: int = 0
    checkpoints: list[str] = field(default_factory=list)  # names, oldest first
    tokens: list[str] = field(default_factory=list)  # checkpoint names whose token is carried
    ca: bool = False
    uncovered: int = 0  # the order's events sealed by no checkpoint yet
    problems: list[str] = field(default_factory=list)


def _covering_lines(event_ids: list[int]) -> list[tuple[str, dict[str, Any]]]:
    """The anchor file's lines (as written, and parsed) that cover the order's events: for each
    event, the first checkpoint sealed after it (its ``last_id`` at or past the event), and the
    newest checkpoint. Lines are in file order; each chains to the line before it in the file."""
    path = anchors.anchor_path()
    if not path.exists():
        return []
    chosen: list[tuple[str, dict[str, Any]]] = []
    newest: tuple[str, dict[str, Any]] | None = None
    pending = 0  # index of the first event not yet covered
    with path.open(encoding="utf-8", errors="replace") as anchor_file:
        for text in anchor_file:
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if not isinstance(line, dict) or line.get("kind") != anchors.KIND:
                continue
            newest = (text.rstrip("\n"), line)
            last_id = line.get("last_id")
            if not isinstance(last_id, int) or pending >= len(event_ids):
                continue
            if event_ids[pending] <= last_id:
                chosen.append(newest)
                while pending < len(event_ids) and event_ids[pending] <= last_id:
                    pending += 1
    if newest is not None and (not chosen or chosen[-1][1] is not newest[1]):
        chosen.append(newest)
    return chosen


def add_chain(writer: Writer, order: PurchaseOrder) -> Chain:
    """The order's segment of the audit chain, the checkpoints that cover it with the bytes their
    time-stamps are over, the tokens, the TSA's CA and the portal's last verification: what
    lets someone without the portal check the record (see the README inside)."""
    chain = Chain()
    segment = io.StringIO()
    event_ids: list[int] = []
    for event in order.audit_events.order_by("id").iterator(chunk_size=2000):
        fields = json.loads(event.canonical())
        segment.write(json.dumps({"id": event.pk, **fields, "hash": event.hash}) + "\n")
        event_ids.append(event.pk)
    chain.events = len(event_ids)
    writer.add_bytes(
        f"{CHAIN_DIR}/chain-segment.jsonl",
        segment.getvalue().encode(),
        "the order's audit events with their hashes and prev_hash, in chain order",
    )
    lines = _covering_lines(event_ids)
    covered = max((line.get("last_id") or 0 for _, line in lines), default=0)
    chain.uncovered = sum(1 for event_id in event_ids if event_id > covered)
    folder = anchors.anchor_path().parent
    for _text, line in lines:
        name = safe_name(str(line.get("checkpoint") or f"seq-{line.get('seq')}"))
        chain.checkpoints.append(name)
        if line.get("hmac") != anchors.line_hmac(line) or line.get("sha256") != (
            anchors.body_sha256(line)
        ):
            chain.problems.append(f"checkpoint {name} does not verify under the portal's key")
        writer.add_bytes(
            f"{CHAIN_DIR}/checkpoints/{name}.body.json",
            anchors.canonical(anchors.line_body(line)),
            f"the body of checkpoint {name}: its SHA-256 is the line's sha256, the time-stamped "
            "hash",
        )
        token = (line.get("tsa") or {}).get("token") if isinstance(line.get("tsa"), dict) else ""
        if token:
            try:
                raw = (folder / str(token)).read_bytes()
            except OSError:
                chain.problems.append(f"the time-stamp token of checkpoint {name} is missing")
            else:
                writer.add_bytes(
                    f"{CHAIN_DIR}/tokens/{name}.tsr",
                    raw,
                    f"the RFC 3161 time-stamp token of checkpoint {name}",
                )
                chain.tokens.append(name)
    writer.add_bytes(
        f"{CHAIN_DIR}/checkpoints.jsonl",
        "".join(f"{text}\n" for text, _ in lines).encode(),
        "the anchor-file lines (checkpoints) that cover the order's events, as written",
    )
    if settings.TSA_CA_PATH:
        try:
            ca = open(settings.TSA_CA_PATH, "rb").read()  # noqa: SIM115, PTH123
        except OSError:
            chain.problems.append(f"the TSA's CA file {settings.TSA_CA_PATH} cannot be read")
        else:
            writer.add_bytes(f"{CHAIN_DIR}/tsa-ca.pem", ca, "the time-stamping authority's CA")
            chain.ca = True
    last_run = integrity_run_latest_line()
    if last_run is not None:
        writer.add_bytes(
            f"{CHAIN_DIR}/last-verification.json",
            json.dumps(last_run, indent=1).encode(),
            "the portal's last integrity_verify run before this export",
        )
    return chain


CHAIN_README = """
Checking the record without the portal
======================================

integrity/chain-segment.jsonl       the order's audit events in chain order, one JSON object a line
integrity/checkpoints.jsonl         the checkpoints that cover them: lines of the portal's anchor
                                    file (kept outside its database), as written
integrity/checkpoints/CP.body.json  each checkpoint's body: the bytes its time-stamp is over
integrity/tokens/CP.tsr             each checkpoint's RFC 3161 time-stamp token, if it has one
integrity/tsa-ca.pem                the time-stamping authority's CA certificate, if configured
integrity/last-verification.json    the portal's last full verification before this export

1. The files are the ones the portal wrote. In the unzipped folder:

     sha256sum -c SHA256SUMS

   Every line must say OK (SHA256SUMS lists every file but itself). It cannot say who wrote
   SHA256SUMS: keep the hash of the ZIP (the portal logs it when the dossier is downloaded) where
   the other party can see it.

2. Each checkpoint was sealed no later than its time-stamp says:

{tokens}
3. What the chain segment shows, and what it cannot.

   Each event's hash is an HMAC-SHA256 under the portal's audit key (AUDIT_KEY), a secret that
   never leaves the portal. Without the key nobody can re-check a hash, nor make one: not you,
   not the supplier, not whoever could write the portal's database. Whoever holds the key can:
   an event's hash is the HMAC of its line without "id" and "hash", as JSON with sorted keys
   and no spaces.

   prev_hash is the hash of the event just before it in the portal's whole chain, which holds
   every order's events. Two lines of the segment link to each other only when no other order's
   event came between them; elsewhere the gap is those other events, which are not carried here.

   What anyone can see: the events in the order they were chained, each with the hash it was
   given when written; a checkpoint whose last_id is an event's id seals that very hash
   (last_hash); every checkpoint whose last_id is at or past an event's id was sealed after the
   event was written, so its token dates the event no later than its time. A change to an event
   after a checkpoint breaks the chain that checkpoint seals, and the portal's integrity_verify
   names it: last-verification.json is its last run before this export ("ok": true when
   everything held).
"""

TOKENS_README = """
   Each must print "Verification: OK". The authority signed the SHA-256 of the body file, which
   is the line's "sha256" in checkpoints.jsonl (sha256sum the body file to see it; openssl ts
   -verify -digest <that sha256> -in ... checks the same). "openssl ts -reply -in
   integrity/tokens/CP.tsr -text" shows the time. The body holds the chain's size when sealed
   (events), its last event (last_id) and that event's hash (last_hash), and "prev": the sha256
   of the checkpoint before it in the anchor file.
"""


def chain_readme(chain: Chain) -> list[str]:
    if chain.tokens:
        tokens = [
            f"     openssl ts -verify -data integrity/checkpoints/{name}.body.json "
            f"-in integrity/tokens/{name}.tsr -CAfile integrity/tsa-ca.pem"
            for name in chain.tokens
        ]
        tokens += TOKENS_README.splitlines()
        if not chain.ca:
            tokens += [
                "   The portal has no CA file configured (TSA_CA_PATH): get the authority's CA",
                "   certificate from it and pass it as -CAfile.",
            ]
    else:
        first = chain.checkpoints[0] if chain.checkpoints else "CP"
        tokens = [
            "   No checkpoint carried here has a time-stamp token (the portal has no TSA_URL, or",
            "   the authority did not answer). Each body's SHA-256 is still its line's sha256:",
            f"     sha256sum integrity/checkpoints/{first}.body.json",
        ]
    lines = CHAIN_README.replace("{tokens}", "\n".join(tokens) + "\n").splitlines()
    if chain.uncovered:
        lines += [
            f"   {chain.uncovered} of the order's {chain.events} events came after the newest "
            "checkpoint:",
            "   none covers them yet (the next one will, within 10 minutes).",
        ]
    if chain.problems:
        lines += ["", "WARNING about the chain and its checkpoints:"]
        lines += [f"  {problem}" for problem in chain.problems]
    return lines
