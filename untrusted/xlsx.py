"""Bounds for XLSX workbooks, checked before any reader opens them; the limits a reader of them
runs under; the parts that make a workbook carry code."""

from __future__ import annotations

import html
import os
import re
import zipfile
from typing import IO

from . import Refused, gettext_noop

# Bounds for XLSX archives, checked before the workbook is read: a reader allocates for the area
# a sheet spans (its declared dimension, or its farthest cell), so one cell at XFD1048576 would
# ask for 17 billion cells and abort the process; one long shared string used by many cells is
# copied for each.
#
# Then the sheet is read in a child process (untrusted.confine.run_confined) allowed
# XLSX_READ_MAX_MEMORY more address space and XLSX_READ_MAX_SECONDS: whatever slips past the
# checks kills the child, not the web or worker process, and becomes a refusal naming the limit.
# Each is an environment variable with this default (the engine reads no Django settings).
XLSX_MAX_ENTRIES = int(os.environ.get("XLSX_MAX_ENTRIES", 10_000))
XLSX_MAX_UNCOMPRESSED = int(os.environ.get("XLSX_MAX_UNCOMPRESSED", 1 << 30))  # 1 GiB in all
# rows × columns of the area a sheet spans
XLSX_MAX_CELLS = int(os.environ.get("XLSX_MAX_CELLS", 50_000_000))
# the text of one cell (or shared string)
XLSX_MAX_CELL_BYTES = int(os.environ.get("XLSX_MAX_CELL_BYTES", 32 << 10))
XLSX_READ_MAX_MEMORY = int(os.environ.get("XLSX_READ_MAX_MEMORY", 4 << 30))  # 4 GiB
XLSX_READ_MAX_SECONDS = float(os.environ.get("XLSX_READ_MAX_SECONDS", 300))
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3})?([0-9]{1,7})?:?([A-Z]{1,3})([0-9]{1,7})"')
_CELL_REF = re.compile(rb'<c r="([A-Z]{2,3})([0-9]{1,7})"')  # one letter: at most 27M cells
_LONG_TEXT = re.compile(rb"<[^<]{%d}" % (XLSX_MAX_CELL_BYTES + 1))  # from a tag on
_OVERLAP = 64  # bytes of a piece kept to find a tag cut in two by the piece's end


def check(path: str | os.PathLike[str] | IO[bytes]) -> None:
    """Refused unless the workbook keeps within every bound above; reads it once, inflating
    piece by piece (a file is left where it was found)."""
    position = path.tell() if hasattr(path, "tell") else None
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > XLSX_MAX_ENTRIES:
                raise Refused(
                    gettext_noop(
                        "unsupported file: a ZIP archive with %(entries)s entries (limit %(limit)s)"
                    ),
                    {"entries": f"{len(entries):,}", "limit": f"{XLSX_MAX_ENTRIES:,}"},
                )
            names = {info.filename for info in entries}
            if "xl/workbook.xml" not in names:
                raise Refused(
                    gettext_noop("unsupported file: a ZIP archive that is not an XLSX workbook")
                )
            declared = sum(info.file_size for info in entries)
            if declared > XLSX_MAX_UNCOMPRESSED:
                raise Refused(
                    gettext_noop(
                        "unsupported file: the workbook inflates to %(size)s bytes "
                        "(limit %(limit)s)"
                    ),
                    {"size": declared, "limit": XLSX_MAX_UNCOMPRESSED},
                )
            # Declared sizes can lie: inflate each entry in bounded pieces and count; the
            # sheets and shared strings are scanned on the way for their area and long texts.
            budget = XLSX_MAX_UNCOMPRESSED
            for info in entries:
                scanned = _scanned(info.filename)
                span = _Span(info.filename)
                with archive.open(info) as member:
                    tail = b""
                    while True:
                        piece = member.read(1 << 20)
                        if not piece:
                            break
                        budget -= len(piece)
                        if budget < 0:
                            raise Refused(
                                gettext_noop("unsupported file: the workbook inflates too much")
                            )
                        if scanned:
                            span.scan(tail + piece, len(tail))
                            tail = piece[-_OVERLAP:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise Refused(
            gettext_noop("unreadable XLSX workbook (%(reason)s)"), {"reason": str(exc)}
        ) from None
    except RuntimeError as exc:  # encrypted entries
        raise Refused(
            gettext_noop("unreadable XLSX workbook (%(reason)s)"), {"reason": str(exc)}
        ) from None
    finally:
        if position is not None and not isinstance(path, str | os.PathLike):
            path.seek(position)


def _scanned(name: str) -> bool:
    return name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


class _Span:
    """The area one sheet spans (declared, and as its cells place it) and its longest run of
    text, read piece by piece; Refused as soon as a limit is broken."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.run = 0  # text bytes since the last "<", carried over pieces

    def scan(self, data: bytes, carried: int) -> None:
        first_tag = data.find(b"<", carried)
        if self.run + (len(data) - carried if first_tag < 0 else first_tag - carried) > (
            XLSX_MAX_CELL_BYTES
        ) or _LONG_TEXT.search(data):
            raise Refused(
                gettext_noop(
                    "unsupported file: a cell in %(part)s holds more than %(limit)s bytes of text"
                ),
                {"part": self.name, "limit": XLSX_MAX_CELL_BYTES},
            )
        last_tag = data.rfind(b"<")
        self.run = self.run + len(data) - carried if last_tag < 0 else len(data) - last_tag - 1
        if self.name == "xl/sharedStrings.xml":
            return
        dimension = _DIMENSION.search(data)
        if dimension:
            self._check(
                dimension.group(3),
                dimension.group(4),
                gettext_noop(
                    "unsupported file: %(part)s declares %(cell)s, an area of %(area)s cells "
                    "(limit %(limit)s); keep the serials in the first columns"
                ),
            )
        columns = set(_CELL_REF.findall(data))
        if columns:
            widest = max((letters for letters, _ in columns), key=lambda c: (len(c), c))
            lowest = max(int(row) for _, row in columns)
            self._check(
                widest,
                str(lowest).encode(),
                gettext_noop(
                    "unsupported file: %(part)s places a cell at %(cell)s, an area of %(area)s "
                    "cells (limit %(limit)s); keep the serials in the first columns"
                ),
            )

    def _check(self, letters: bytes, row: bytes, refusal: str) -> None:
        area = _column_number(letters) * int(row or b"1")
        if area > XLSX_MAX_CELLS:
            cell = (letters + row).decode("ascii")
            raise Refused(
                refusal,
                {
                    "part": self.name,
                    "cell": cell,
                    "area": f"{area:,}",
                    "limit": f"{XLSX_MAX_CELLS:,}",
                },
            )


# Parts that hold code: VBA projects, Excel 4 macro sheets (also the "international" kind),
# ActiveX controls, embedded OLE objects, and a content type that declares the workbook
# macro-enabled (an .xlsm renamed .xlsx). Package part names and MIME types are compared without
# case, after XML character references are read (``vba&#80;roject``).
_MACRO_PARTS = re.compile(
    r"(^|/)(vbaProject[^/]*\.bin)$|^xl/(macrosheets|activeX|embeddings)/", re.I
)
_MACRO_MARKERS = (
    "macroenabled",
    "vbaproject",
    "macrosheet",  # also intlmacrosheet
    "activex",
    "oleobject",
    "ms-office.vba",
)
_OLE = b"\xd0\xcf\x11\xe0"


def macros(path: str | os.PathLike[str] | IO[bytes]) -> str:
    """The first part of the workbook that carries code, or "" (a file is left where it was
    found). Reads the content types and every relationship part whole: ``check`` has bounded
    what inflating them costs."""
    position = path.tell() if hasattr(path, "tell") else None
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename
                if _MACRO_PARTS.search(name):
                    return name
                lowered = name.lower()
                if lowered == "[content_types].xml" or lowered.endswith(".rels"):
                    with archive.open(info) as part:
                        declared = html.unescape(part.read().decode("utf-8", "replace")).lower()
                    for marker in _MACRO_MARKERS:
                        if marker in declared:
                            return f"{name} ({marker})"
                elif info.file_size >= len(_OLE):
                    with archive.open(info) as part:
                        if part.read(len(_OLE)) == _OLE:
                            return f"{name} (an OLE object)"
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise Refused(
            gettext_noop("unreadable XLSX workbook (%(reason)s)"), {"reason": str(exc)}
        ) from None
    finally:
        if position is not None and not isinstance(path, str | os.PathLike):
            path.seek(position)
    return ""
