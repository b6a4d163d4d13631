"""From bytes to classified rows: line splitting, the serial column, stripping, skipping.

Three routes produce the same result (a ``Segment``):

* ``scan_region`` tries the fixed-width route first: a single-column file whose lines all have
  the rule's length is viewed as a 2-D array and classified column-wise without copying. Lines
  that do not fit (white space, lower case, commas, wrong length) are re-read one by one through
  the general route; anything that breaks the fixed stride drops the whole region back to it.
* The general route (vectorised, any line lengths, several columns) finds newline and comma
  offsets with NumPy, strips cells with a few vectorised passes and classifies them.
* The CSV route (Python ``csv`` module) is used for regions with quotes or bare ``\\r`` line
  ends, where only a real CSV parser gives the right cells and line numbers.

Cells with non-ASCII bytes are stripped and upper-cased by Python (``str.strip``/``str.upper``)
and classified one by one; they are rare and this keeps Unicode semantics exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
from numpy.typing import DTypeLike

from .kernel import INT64_WIDTH, PAD, classify_cells, classify_strided, strided_reach
from .rules import DIGITS, LENGTH, OK, PREFIX, NumberingRule, classify_value

# White space removed by str.strip() among ASCII bytes.
_WS_TABLE = np.zeros(256, dtype=bool)
_WS_TABLE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_WS_CHARS = frozenset(b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ")

NL, CR, COMMA, QUOTE = 10, 13, 44, 34


class FormatProblem(Exception):
    """A problem in the file's content; the caller adds the file name."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __reduce__(self) -> tuple[type[FormatProblem], tuple[str, int | None]]:
        return FormatProblem, (self.message, self.line)  # whole across a confined child


def csv_problem(exc: Exception) -> str:
    """What the csv module's error means for a person reading a serial list."""
    if "field larger than field limit" in str(exc):
        return (
            f"a cell holds more than {csv.field_size_limit():,} characters; a serial list "
            "holds one short serial per cell"
        )
    return f"not valid CSV ({exc})"


class LineNumbers:
    """Line numbers ``first, first + 1, ...`` without storing them (fixed-width files)."""

    def __init__(self, first: int, count: int) -> None:
        self.first, self.count = first, count

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: np.ndarray) -> np.ndarray: ...
    @overload
    def __getitem__(self, index: int) -> np.int64: ...
    def __getitem__(self, index: np.ndarray | int) -> np.ndarray | np.int64:
        if isinstance(index, np.ndarray) and index.dtype == bool:
            index = np.flatnonzero(index)
        return np.asarray(index, dtype=np.int64) + self.first

    def __array__(self, dtype: DTypeLike | None = None, copy: object = None) -> np.ndarray:
        return np.arange(self.first, self.first + self.count, dtype=dtype or np.int64)


@dataclass
class Segment:
    """Classified rows, in line order: skipped (empty) rows are already left out."""

    lines: np.ndarray | LineNumbers  # int64 line numbers
    reason: np.ndarray  # uint8, 0 = well-formed
    counters: np.ndarray  # int64 (object for wide rules); meaningful where reason == 0
    raw: np.ndarray | None = None
    starts: np.ndarray | None = None  # cell text position per row, for malformed values
    lengths: np.ndarray | None = None
    special: dict[int, str] = field(default_factory=dict)  # row -> text (non-ASCII cells)

    def __len__(self) -> int:
        return len(self.reason)

    def text(self, row: int) -> str:
        """The stripped, upper-cased cell text of one row."""
        if row in self.special:
            return self.special[row]
        assert self.raw is not None and self.starts is not None and self.lengths is not None
        start = int(self.starts[row])
        return bytes(self.raw[start : start + int(self.lengths[row])]).decode("ascii").upper()


def empty_segment(rule: NumberingRule) -> Segment:
    wide = rule.width > INT64_WIDTH
    return Segment(
        lines=np.zeros(0, dtype=np.int64),
        reason=np.zeros(0, dtype=np.uint8),
        counters=np.zeros(0, dtype=object if wide else np.int64),
    )


def padded(data: bytes) -> np.ndarray:
    """A writable byte array holding ``data`` with PAD zero bytes on both sides."""
    raw = np.zeros(len(data) + 2 * PAD, dtype=np.uint8)
    raw[PAD : PAD + len(data)] = np.frombuffer(data, dtype=np.uint8)
    return raw


# --- cells ----------------------------------------------------------------------------------


def strip_cells(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Move ``starts``/``ends`` (in place) past ASCII white space, as str.strip() would."""
    idx = np.flatnonzero((starts < ends) & _WS_TABLE[raw[starts]])
    while len(idx):
        starts[idx] += 1
        idx = idx[(starts[idx] < ends[idx]) & _WS_TABLE[raw[starts[idx]]]]
    idx = np.flatnonzero((starts < ends) & _WS_TABLE[raw[ends - 1]])
    while len(idx):
        ends[idx] -= 1
        idx = idx[(starts[idx] < ends[idx]) & _WS_TABLE[raw[ends[idx] - 1]]]


def classify_rows(
    raw: np.ndarray,
    lines: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    nonascii: np.ndarray | None,
    rule: NumberingRule,
) -> tuple[np.ndarray, Segment]:
    """Strip, skip empty cells and classify. Returns the kept input rows and their segment.

    ``starts``/``ends`` are raw cell bounds (modified in place); ``nonascii`` flags rows whose
    cell holds bytes >= 0x80 (None when there are none).
    """
    strip_cells(raw, starts, ends)
    lengths = ends - starts
    keep = lengths > 0
    special_rows = np.zeros(0, dtype=np.int64)
    special_text: list[str] = []
    if nonascii is not None and np.count_nonzero(nonascii):
        candidates = np.flatnonzero(nonascii & keep)
        keep[candidates] = False
        kept_special = []
        for i in candidates.tolist():
            text = bytes(raw[starts[i] : ends[i]]).decode("utf-8").strip().upper()
            if text:
                kept_special.append(i)
                special_text.append(text)
        special_rows = np.asarray(kept_special, dtype=np.int64)
    plain_rows = np.flatnonzero(keep)
    reason, counters = classify_cells(raw, starts[plain_rows], lengths[plain_rows], rule)
    if len(special_rows) == 0:
        return plain_rows, Segment(
            lines=lines[plain_rows],
            reason=reason,
            counters=counters,
            raw=raw,
            starts=starts[plain_rows],
            lengths=lengths[plain_rows],
        )
    rows = np.concatenate([plain_rows, special_rows])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    s_reason = np.empty(len(special_rows), dtype=np.uint8)
    s_counters = np.zeros(len(special_rows), dtype=counters.dtype)
    for k, text in enumerate(special_text):
        code, counter = classify_value(text, rule)
        s_reason[k] = code
        if counter is not None:
            s_counters[k] = counter
    position_of_special = np.flatnonzero(order >= len(plain_rows))
    special = {
        int(pos): special_text[int(order[pos]) - len(plain_rows)] for pos in position_of_special
    }
    return rows, Segment(
        lines=lines[rows],
        reason=np.concatenate([reason, s_reason])[order],
        counters=np.concatenate([counters, s_counters])[order],
        raw=raw,
        starts=starts[rows],
        lengths=lengths[rows],
        special=special,
    )


def segment_from_strings(
    lines: Sequence[int] | np.ndarray,
    values: Sequence[str],
    rule: NumberingRule,
    forced: dict[int, int] | None = None,
) -> Segment:
    """Classify cell strings (not yet stripped or upper-cased); empty ones are skipped.

    ``forced`` maps an input position to a reason that applies when the value is otherwise
    well-formed (used for spreadsheet numbers that lost digits).
    """
    n = len(values)
    if n == 0:
        return empty_segment(rule)
    line_array = np.asarray(lines, dtype=np.int64)
    values = [v if isinstance(v, str) else str(v) for v in values]
    joined = "".join(values)
    if joined.isascii():
        nonascii = None
        encoded = joined.encode("ascii")
        char_lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    else:
        flags = [v.isascii() for v in values]
        nonascii = ~np.fromiter(flags, dtype=bool, count=n)
        # non-ASCII cells are stored as UTF-8 and handled by Python in classify_rows
        pieces = [v.encode("utf-8") for v in values]
        encoded = b"".join(pieces)
        char_lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=n)
    raw = padded(encoded)
    ends = np.cumsum(char_lengths) + PAD
    starts = ends - char_lengths
    rows, seg = classify_rows(raw, line_array, starts, ends, nonascii, rule)
    if forced:
        for pos, code in forced.items():
            k = int(np.searchsorted(rows, pos))
            if k < len(rows) and rows[k] == pos and seg.reason[k] == OK:
                seg.reason[k] = code
    return seg


# --- regions of a text file -----------------------------------------------------------------


def _has_lone_cr(region: np.ndarray) -> bool:
    crs = np.count_nonzero(region == CR)
    if crs == 0:
        return False
    crlf = np.count_nonzero((region[:-1] == CR) & (region[1:] == NL))
    return bool(crs != crlf)


def scan_region(
    raw: np.ndarray,
    a: int,
    b: int,
    col: int,
    line_base: int,
    rule: NumberingRule,
    has_pad: bool = True,
) -> list[Segment]:
    """Classify the serial column of ``raw[a:b]``; ``a`` is the start of line ``line_base``.

    ``has_pad`` False means ``raw`` (a memory map of the file) has no PAD bytes around the data.
    """
    if a >= b:
        return []
    if col == 0:
        fixed = _scan_fixed(raw, a, b, line_base, rule, has_pad)
        if fixed is not None:
            return fixed
    if not has_pad:
        raw, a, b = _padded_copy(raw, a, b)
    return [_scan_general(raw, a, b, col, line_base, rule)]


def _padded_copy(raw: np.ndarray, a: int, b: int) -> tuple[np.ndarray, int, int]:
    out = np.zeros(b - a + 2 * PAD, dtype=np.uint8)
    out[PAD : PAD + b - a] = raw[a:b]
    return out, PAD, PAD + b - a


def _scan_general(
    raw: np.ndarray, a: int, b: int, col: int, line_base: int, rule: NumberingRule
) -> Segment:
    region = raw[a:b]
    if _has_lone_cr(region):
        return _scan_csv(raw, a, b, col, line_base, rule)
    newlines = np.flatnonzero(region == NL)
    newlines += a
    quotes = np.flatnonzero(region == QUOTE)
    if len(quotes):
        quotes += a
        if not simply_quoted(raw, a, b, quotes):
            return _scan_csv(raw, a, b, col, line_base, rule)
    starts = np.empty(len(newlines) + 1, dtype=np.int64)
    starts[0] = a
    starts[1:] = newlines + 1
    ends = np.empty_like(starts)
    ends[:-1] = newlines
    ends[-1] = b
    if starts[-1] >= b:
        starts, ends = starts[:-1], ends[:-1]
    # Empty lines are dropped here, before any per-line array grows: 20 MB of blank lines
    # then costs two passes over its bytes, not a dozen arrays of 20 million entries.
    filled = np.flatnonzero(ends > starts)
    if len(filled) < len(starts):
        lines = filled + line_base
        starts, ends = starts[filled], ends[filled]
    else:
        lines = np.arange(line_base, line_base + len(starts), dtype=np.int64)
    del filled
    commas = None
    if col > 0 or np.count_nonzero(region == COMMA):
        commas = np.flatnonzero(region == COMMA)
        commas += a
    cell_starts, cell_ends = _column_bounds(starts, ends, commas, col)
    if len(quotes):  # each quoted cell is quoted whole: its text is between the quotes
        quoted = (cell_ends - cell_starts >= 2) & (raw[cell_starts] == QUOTE)
        cell_starts[quoted] += 1
        cell_ends[quoted] -= 1
    nonascii = None
    if len(region) and int(region.max()) >= 0x80:
        high = np.flatnonzero(region >= 0x80)
        high += a
        nonascii = np.searchsorted(high, cell_ends) > np.searchsorted(high, cell_starts)
    _, seg = classify_rows(raw, lines, cell_starts, cell_ends, nonascii, rule)
    return seg


def simply_quoted(raw: np.ndarray, a: int, b: int, quotes: np.ndarray) -> bool:
    """Whether every quote of ``raw[a:b]`` (LF line ends) comes in a pair that opens at a
    cell's start and closes at its end with no comma, line end or other quote between: then
    splitting at commas and line ends and dropping the quotes is exactly what the csv module
    reads, and the careful row-by-row path is not needed."""
    if len(quotes) % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    before = raw[opens - 1]
    after = raw[closes + 1]
    opening = (opens == a) | (before == COMMA) | (before == NL)
    closing = (closes == b - 1) | (after == COMMA) | (after == NL)
    if not (opening.all() and closing.all()):
        return False
    # The first comma or line end after each opening quote must come after its closing one.
    region = raw[a:b]
    separators = np.flatnonzero((region == COMMA) | (region == NL))
    if len(separators) == 0:
        return True
    separators += a
    following = np.searchsorted(separators, opens)
    inside = following < len(separators)
    return not np.any(
        separators[np.minimum(following, len(separators) - 1)][inside] < closes[inside]
    )


def _column_bounds(
    starts: np.ndarray, ends: np.ndarray, commas: np.ndarray | None, col: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the ``col``-th comma-separated field of each line (empty when missing)."""
    if commas is None or len(commas) == 0:
        if col == 0:
            return starts.copy(), ends.copy()
        return ends.copy(), ends.copy()
    ncommas = len(commas)
    first = np.searchsorted(commas, starts)  # first comma at or after the line start
    if col == 0:
        cell_starts = starts.copy()
    else:
        j = first + (col - 1)
        jc = np.minimum(j, ncommas - 1)
        present = (j < ncommas) & (commas[jc] < ends)
        cell_starts = np.where(present, commas[jc] + 1, ends)
    j = first + col
    jc = np.minimum(j, ncommas - 1)
    bounded = (j < ncommas) & (commas[jc] < ends)
    cell_ends = np.where(bounded, commas[jc], ends)
    cell_ends = np.maximum(cell_ends, cell_starts)
    return cell_starts, cell_ends


def _scan_fixed(
    raw: np.ndarray, a: int, b: int, line_base: int, rule: NumberingRule, has_pad: bool
) -> list[Segment] | None:
    """The fixed-stride route; None when the region does not have that shape."""
    prefix = rule.prefix
    if not prefix.isascii() or any(ch in prefix for ch in ',"\r\n') or prefix != prefix.strip():
        return None
    length = rule.length
    head = bytes(raw[a : min(b, a + length + 2)])
    if head[length : length + 1] == b"\n":
        terminator = b"\n"
    elif head[length : length + 2] == b"\r\n":
        terminator = b"\r\n"
    else:
        return None
    stride = length + len(terminator)
    rows = (b - a) // stride
    if rows < 1:
        return None
    # lines whose kernel reads would leave the buffer are handled like irregular ones
    low, high = strided_reach(rule, stride)
    first_safe = 0 if a + low >= 0 else -(-(-low - a) // stride)
    last_safe = min(rows - 1, (len(raw) - high - a) // stride)
    reason = np.full(rows, DIGITS, dtype=np.uint8)
    counters = np.zeros(rows, dtype=object if rule.width > INT64_WIDTH else np.int64)
    term_ok = np.zeros(rows, dtype=bool)
    if first_safe <= last_safe:
        span = slice(first_safe, last_safe + 1)
        classify_strided(
            raw,
            a + stride * first_safe,
            stride,
            last_safe + 1 - first_safe,
            rule,
            terminator,
            (reason[span], counters[span], term_ok[span]),
        )
    irregular = np.flatnonzero(
        ~term_ok | (reason == PREFIX) | (reason == LENGTH) | (reason == DIGITS)
    )
    lines = LineNumbers(line_base, rows)
    seg = Segment(lines=lines, reason=reason, counters=counters, raw=raw)
    sub = None
    dropped = irregular
    if len(irregular):
        if len(irregular) > rows // 4 + 64:
            return None  # mostly irregular: the general route is faster and as correct
        block = raw[(a + stride * irregular)[:, None] + np.arange(stride)]
        if np.count_nonzero(block[:, stride - 1] != NL):
            return None  # the stride does not follow the lines
        body = block[:, : stride - 1]
        if np.count_nonzero(body == NL) or np.count_nonzero(body == QUOTE):
            return None
        if np.count_nonzero(body[:, : stride - 2] == CR):
            return None  # a bare CR line end
        commas = body == COMMA
        has_comma = commas.any(axis=1)
        cell_len = np.where(has_comma, commas.argmax(axis=1), stride - 1)
        nonascii = (body >= 0x80).any(axis=1)
        # the irregular lines, copied into a padded buffer of their own
        sub_raw = padded(block.tobytes())
        cell_starts = PAD + stride * np.arange(len(irregular), dtype=np.int64)
        cell_ends = cell_starts + cell_len
        kept, sub = classify_rows(sub_raw, lines[irregular], cell_starts, cell_ends, nonascii, rule)
        seg.reason[irregular[kept]] = sub.reason
        seg.counters[irregular[kept]] = sub.counters
        dropped = np.setdiff1d(irregular, irregular[kept], assume_unique=True)
        irregular = irregular[kept]
    segments: list[Segment] = [_FixedSegment.make(seg, a, stride, length, irregular, sub, dropped)]
    tail_start = a + rows * stride
    if tail_start < b:
        tail_raw, ta, tb = (raw, tail_start, b) if has_pad else _padded_copy(raw, tail_start, b)
        segments.append(_scan_general(tail_raw, ta, tb, 0, line_base + rows, rule))
    return segments


class _FixedSegment(Segment):
    """A fixed-stride segment: text is found from the row's position unless it was re-read."""

    first: int
    stride: int
    length: int
    row_of: np.ndarray | None  # segment row -> fixed line index (None when nothing dropped)
    irregular: np.ndarray
    sub: Segment | None

    @classmethod
    def make(
        cls,
        seg: Segment,
        first: int,
        stride: int,
        length: int,
        irregular: np.ndarray,
        sub: Segment | None,
        dropped: np.ndarray,
    ) -> _FixedSegment:
        row_of = None
        lines, reason, counters = seg.lines, seg.reason, seg.counters
        if len(dropped):
            keep = np.ones(len(reason), dtype=bool)
            keep[dropped] = False
            row_of = np.flatnonzero(keep)
            lines, reason, counters = lines[row_of], reason[keep], counters[keep]
        out = cls(lines=lines, reason=reason, counters=counters, raw=seg.raw)
        out.first, out.stride, out.length = first, stride, length
        out.row_of, out.irregular, out.sub = row_of, irregular, sub
        return out

    def text(self, row: int) -> str:
        fixed_row = int(self.row_of[row]) if self.row_of is not None else row
        k = int(np.searchsorted(self.irregular, fixed_row))
        if self.sub is not None and k < len(self.irregular) and self.irregular[k] == fixed_row:
            return self.sub.text(k)
        assert self.raw is not None
        start = self.first + self.stride * fixed_row
        return bytes(self.raw[start : start + self.length]).decode("ascii").upper()


def _scan_csv(
    raw: np.ndarray, a: int, b: int, col: int, line_base: int, rule: NumberingRule
) -> Segment:
    """The exact route: Python's csv module over the decoded region."""
    lines, values = read_csv_column(bytes(raw[a:b]).decode("utf-8"), col, line_base)
    return segment_from_strings(lines, values, rule)


def read_csv_column(text: str, col: int, line_base: int) -> tuple[list[int], list[str]]:
    """Line numbers and raw cells of column ``col``, rows without that cell left out."""
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[int] = []
    values: list[str] = []
    consumed = 0
    try:
        for row in reader:
            line = line_base + consumed
            consumed = reader.line_num
            if len(row) > col:
                lines.append(line)
                values.append(row[col])
    except csv.Error as exc:
        raise FormatProblem(f"line {line_base + consumed}: {csv_problem(exc)}") from None
    return lines, values
