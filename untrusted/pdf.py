"""What a PDF document may carry to be kept as evidence or a payment document: no password, no
code (JavaScript, an action run on opening or on an event, a program to launch, a form that sends
or imports data), no files inside it, a bounded number of pages and objects, and streams that do
not inflate beyond a budget (a flate bomb). Opened with pikepdf (qpdf) in a child process under a
memory and time limit, so a document built to break the parser breaks only the child.

Each limit is an environment variable with the default below.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from typing import IO

import pikepdf

from . import Refused, gettext_noop
from .confine import Confined, run_confined

PDF_MAX_PAGES = int(os.environ.get("PDF_MAX_PAGES", 2_000))
PDF_MAX_OBJECTS = int(os.environ.get("PDF_MAX_OBJECTS", 500_000))
PDF_MAX_INFLATED = int(os.environ.get("PDF_MAX_INFLATED", 512 << 20))  # all streams, inflated
PDF_CHECK_MAX_MEMORY = int(os.environ.get("PDF_CHECK_MAX_MEMORY", 1 << 30))
PDF_CHECK_MAX_SECONDS = float(os.environ.get("PDF_CHECK_MAX_SECONDS", 60))

# Actions (/S) that run code, start a program, reach out or pull data in. Links (/URI, /GoTo)
# are what documents normally carry and are kept.
_ACTIONS = {
    "/JavaScript": gettext_noop("the PDF carries JavaScript"),
    "/Launch": gettext_noop("the PDF carries an action that launches a program"),
    "/ImportData": gettext_noop("the PDF carries an action that imports data"),
    "/SubmitForm": gettext_noop("the PDF carries a form that sends data"),
    "/GoToE": gettext_noop("the PDF carries a link into an embedded file"),
    "/RichMediaExecute": gettext_noop("the PDF carries an action that runs embedded media"),
}
_INFLATE_PIECE = 1 << 20
_INFLATING = {"/FlateDecode", "/Fl", "/LZWDecode", "/LZW", "/RunLengthDecode", "/RL"}


def check(source: bytes | IO[bytes]) -> int:
    """The number of pages; :class:`Refused` naming what the document carries or which limit
    it breaks."""
    data = source if isinstance(source, bytes) else _read_all(source)
    try:
        return run_confined(
            _checked, data, memory_bytes=PDF_CHECK_MAX_MEMORY, seconds=PDF_CHECK_MAX_SECONDS
        )
    except Confined as exc:
        raise Refused(
            gettext_noop("the PDF is too heavy to open safely (%(reason)s)"), {"reason": exc}
        ) from None


def _read_all(stream: IO[bytes]) -> bytes:
    stream.seek(0)
    data = stream.read()
    stream.seek(0)
    return data


def _checked(data: bytes) -> int:
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise Refused(
            gettext_noop("the PDF is protected by a password; upload it without one")
        ) from None
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = re.sub(r"^stream <[^>]*>: ", "", reason)[:160]  # the in-memory stream's repr
        raise Refused(
            gettext_noop("the PDF is damaged and cannot be opened (%(reason)s)"), {"reason": reason}
        ) from None
    with pdf:
        if pdf.is_encrypted:
            raise Refused(gettext_noop("the PDF is encrypted; upload it without encryption"))
        if len(pdf.objects) > PDF_MAX_OBJECTS:
            raise Refused(
                gettext_noop("the PDF holds %(objects)s objects (limit %(limit)s)"),
                {"objects": f"{len(pdf.objects):,}", "limit": f"{PDF_MAX_OBJECTS:,}"},
            )
        pages = len(pdf.pages)
        if pages > PDF_MAX_PAGES:
            raise Refused(
                gettext_noop("the PDF has %(pages)s pages (limit %(limit)s)"),
                {"pages": f"{pages:,}", "limit": f"{PDF_MAX_PAGES:,}"},
            )
        if pages == 0:
            raise Refused(gettext_noop("the PDF has no pages"))
        _check_catalog(pdf.Root)
        # The trailer is no indirect object, and a catalog may be written directly inside it:
        # everything nested there directly is checked like any object.
        for inner in _with_direct_parts(pdf.trailer):
            _check_object(inner)
        inflated = 0
        for obj in pdf.objects:
            for inner in _with_direct_parts(obj):
                _check_object(inner)
            if isinstance(obj, pikepdf.Stream):
                inflated += _inflated_size(obj, PDF_MAX_INFLATED - inflated)
                if inflated > PDF_MAX_INFLATED:
                    raise Refused(
                        gettext_noop(
                            "the PDF's contents inflate to more than %(limit)s MiB "
                            "(a compression bomb?)"
                        ),
                        {"limit": f"{PDF_MAX_INFLATED >> 20:,}"},
                    )
        return pages


def _with_direct_parts(obj: pikepdf.Object) -> list[pikepdf.Object]:
    """The dictionaries of ``obj`` and those nested in it directly (an action written inside a
    page's /AA, say); nested indirect objects are visited on their own by the caller."""
    found: list[pikepdf.Object] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
            found.append(item)
            children = [value for _, value in item.items()]
        elif isinstance(item, pikepdf.Array):
            children = list(item)
        else:
            continue
        stack.extend(
            child
            for child in children
            if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect
        )
    return found


def _check_catalog(root: pikepdf.Object) -> None:
    keys = set(root.keys())
    if "/OpenAction" in keys:
        action = root.OpenAction
        kind = str(action.get("/S", "")) if hasattr(action, "get") else ""
        if kind not in ("", "/GoTo"):  # opening at a page is ordinary
            raise Refused(
                gettext_noop("the PDF runs an action when it is opened (%(action)s)"),
                {"action": kind.lstrip("/")},
            )
    if "/AA" in keys:
        raise Refused(gettext_noop("the PDF runs actions on document events"))
    names = root.get("/Names") if "/Names" in keys else None
    if names is not None:
        if "/JavaScript" in names:
            raise Refused(gettext_noop("the PDF carries JavaScript"))
        if "/EmbeddedFiles" in names:
            raise Refused(
                gettext_noop(
                    "the PDF carries files inside it (attachments); upload them separately"
                )
            )
    form = root.get("/AcroForm") if "/AcroForm" in keys else None
    if form is not None and "/XFA" in form:
        raise Refused(gettext_noop("the PDF carries an XFA form, which can run scripts"))


def _check_object(obj: pikepdf.Object) -> None:
    keys = set(obj.keys())
    if "/JS" in keys or "/JavaScript" in keys:
        raise Refused(gettext_noop("the PDF carries JavaScript"))
    if "/S" in keys:
        kind = str(obj.get("/S"))
        if kind in _ACTIONS:
            raise Refused(_ACTIONS[kind])
        if kind == "/URI" and str(obj.get("/URI", "")).strip().lower().startswith(
            ("javascript:", "vbscript:", "data:", "file:")
        ):
            raise Refused(
                gettext_noop("the PDF carries a link that runs a script or opens a local file")
            )
        if kind == "/GoToR" and _remote(obj.get("/F")):
            raise Refused(
                gettext_noop("the PDF carries a link that opens a file from the internet")
            )
    if "/OnInstantiate" in keys or "/3DD" in keys or str(obj.get("/Subtype", "")) == "/3D":
        raise Refused(gettext_noop("the PDF carries 3D content, which can run JavaScript"))
    kind = str(obj.get("/Type", "")) if "/Type" in keys else ""
    if kind == "/EmbeddedFile" or "/EF" in keys:
        raise Refused(
            gettext_noop("the PDF carries files inside it (attachments); upload them separately")
        )
    if "/RichMediaContent" in keys or str(obj.get("/Subtype", "")) == "/RichMedia":
        raise Refused(gettext_noop("the PDF carries embedded media that can run code"))


def _remote(target: object) -> bool:
    """A file specification that names a URL (``/FS /URL``) or a web address."""
    if isinstance(target, pikepdf.Dictionary):
        if str(target.get("/FS", "")) == "/URL":
            return True
        target = target.get("/F", "")
    return str(target).strip().lower().startswith(("http:", "https:", "ftp:", "//", "\\\\"))


def _inflated_size(stream: pikepdf.Stream, budget: int) -> int:
    """The stream's size once inflated, counted in pieces and stopped past ``budget``. Only
    Flate is inflated here (images in DCT or JPX are counted as stored)."""
    filters = stream.get("/Filter")
    if filters is None:
        names = []
    elif isinstance(filters, pikepdf.Array):
        names = [str(name) for name in filters]
    else:
        names = [str(filters)]
    raw = stream.read_raw_bytes()
    if not names or not _INFLATING.intersection(names):
        return len(raw)  # stored as it is (an image in DCT or JPX, say)
    if names[0] not in ("/FlateDecode", "/Fl"):
        # Another filter first (ASCIIHex, ASCII85, LZW…): qpdf decodes the whole chain, in
        # this child under its memory limit, so a bomb ends the child.
        try:
            return len(stream.read_bytes())
        except pikepdf.PdfError:
            return len(raw)
    inflater = zlib.decompressobj()
    total = 0
    try:
        piece = inflater.decompress(raw, _INFLATE_PIECE)
        total += len(piece)
        while inflater.unconsumed_tail and total <= budget:
            piece = inflater.decompress(inflater.unconsumed_tail, _INFLATE_PIECE)
            total += len(piece)
    except zlib.error:
        return max(total, len(raw))  # a broken stream: viewers show what they can
    return total
