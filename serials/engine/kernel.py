"""Vectorised classification of serial cells (prefix, length, digits, check digit, counter).

Cells live in one padded byte buffer (``raw``). The kernel reads each cell through unaligned
64-bit windows (eight bytes at once) and uses SWAR arithmetic: digit tests, weighted check-digit
sums and the decimal value of eight digits take a handful of integer operations per window.
Rows are processed in blocks that fit the CPU cache, so no Python code runs per serial.

A cell's bytes must be ASCII, already stripped of surrounding white space; letters may be in
either case (the prefix is compared case-insensitively, which equals upper-casing the cell).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .rules import CHECK_DIGIT, DIGITS, LENGTH, PREFIX, NumberingRule

# Bytes of padding kept before and after the data in every buffer the kernel reads.
PAD = 64
BLOCK_ROWS = 1 << 16
# Widths up to this many digits give counters that fit in int64; wider ones use Python ints.
INT64_WIDTH = 18

_U = np.uint64
_ZEROS = _U(0x3030303030303030)
_HIGH_NIBBLES = _U(0xF0F0F0F0F0F0F0F0)
_PLUS_SIX = _U(0x0606060606060606)
_ODD_BYTES = _U(0xFF00FF00FF00FF00)
_PLUS_7B = _U(0x7B7B7B7B7B7B7B7B)
_LOW_BITS = _U(0x0101010101010101)
_BYTE_SUM = _U(0x0101010101010101)
_MUL1, _MASK1 = _U(10 * 256 + 1), _U(0x00FF00FF00FF00FF)
_MUL2, _MASK2 = _U(100 * 65536 + 1), _U(0x0000FFFF0000FFFF)
_MUL3 = _U(10000 * (1 << 32) + 1)
_S7, _S8, _S16, _S32, _S56 = _U(7), _U(8), _U(16), _U(32), _U(56)
_NINE = _U(9)


def byte_windows(raw: np.ndarray) -> np.ndarray:
    """A uint64 view of ``raw`` with a one-byte stride: element i is bytes i..i+7."""
    return np.ndarray(shape=(len(raw) - 7,), dtype="<u8", buffer=raw, offset=0, strides=(1,))


def _mask_from_bytes(flags: list[int]) -> int:
    return sum(0xFF << (8 * j) for j, on in enumerate(flags) if on)


@dataclass(frozen=True)
class _Layout:
    prefix_ascii: bool
    prefix_windows: tuple[tuple[int, np.uint64, np.uint64, np.uint64], ...]  # off, mask, fold, pat
    digit_windows: tuple[tuple[int, np.uint64 | None, np.uint64], ...]  # off, mask, fill
    prefix_len: int
    width: int
    length: int
    check: str


def _layout(rule: NumberingRule) -> _Layout:
    prefix = rule.prefix
    prefix_ascii = prefix.isascii()
    pbytes = prefix.encode("ascii") if prefix_ascii else b""
    plen = len(pbytes)
    prefix_windows = []
    for off in range(0, plen, 8):
        chunk = pbytes[off : off + 8]
        mask = _mask_from_bytes([1] * len(chunk))
        fold = sum(0x20 << (8 * j) for j, b in enumerate(chunk) if 65 <= b <= 90)
        pat = int.from_bytes(chunk.ljust(8, b"\0"), "little") | fold
        prefix_windows.append((off, _U(mask), _U(fold), _U(pat)))
    width = rule.width
    windows = -(-width // 8)
    digit_windows: list[tuple[int, np.uint64 | None, np.uint64]] = []
    end = plen + width
    for k in range(windows):
        off = end - 8 * (k + 1)
        invalid = max(0, 8 * (k + 1) - width)  # leading bytes of the top window before the counter
        if invalid:
            mask = _mask_from_bytes([j >= invalid for j in range(8)])
            fill = 0x3030303030303030 & ~mask
            digit_windows.append((off, _U(mask), _U(fill)))
        else:
            digit_windows.append((off, None, _U(0)))
    return _Layout(
        prefix_ascii=prefix_ascii,
        prefix_windows=tuple(prefix_windows),
        digit_windows=tuple(digit_windows),
        prefix_len=plen,
        width=width,
        length=rule.length,
        check=rule.check,
    )


Fetch64 = Callable[[int], np.ndarray]
Fetch8 = Callable[[int], np.ndarray]


def _classify_block(
    fetch64: Fetch64,
    fetch8: Fetch8,
    lengths: np.ndarray | None,
    rows: int,
    lay: _Layout,
    wide: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Reasons (uint8, 0 = well-formed) and counters for one block of cells.

    ``lengths`` None means every cell is known to have the rule's length.
    """
    reason = np.zeros(rows, dtype=np.uint8)
    if not lay.prefix_ascii:
        reason[:] = PREFIX
        return reason, np.zeros(rows, dtype=object if wide else np.int64)

    digits_ok = np.ones(rows, dtype=bool)
    parts: list[np.ndarray] = []
    check_sum = np.zeros(rows, dtype=np.uint64) if lay.check != "none" else None
    for off, mask, fill in lay.digit_windows:
        v = fetch64(off)
        if mask is not None:
            v = v & mask
            v |= fill
        elif not v.flags.writeable or not v.flags.owndata:
            v = v.copy()
        t = v & _HIGH_NIBBLES
        digits_ok &= t == _ZEROS
        t = v + _PLUS_SIX
        t &= _HIGH_NIBBLES
        digits_ok &= t == _ZEROS
        v -= _ZEROS  # now one digit value (0..9) per byte, 0 outside the counter
        if check_sum is not None:
            odd = v & _ODD_BYTES
            if lay.check == "gs1":
                t = odd << _U(1)
                t += v  # 3 * digit on the weighted bytes
            else:
                ge5 = odd + _PLUS_7B
                ge5 >>= _S7
                ge5 &= _LOW_BITS
                t = v + odd
                ge5 *= _NINE
                t -= ge5  # Luhn doubling, minus 9 above 9
            t *= _BYTE_SUM
            t >>= _S56
            check_sum += t
        v *= _MUL1
        v >>= _S8
        v &= _MASK1
        v *= _MUL2
        v >>= _S16
        v &= _MASK2
        v *= _MUL3
        v >>= _S32
        parts.append(v)

    check_ok = None
    if check_sum is not None:
        check_byte = fetch8(lay.prefix_len + lay.width) - np.uint8(48)
        digits_ok &= check_byte <= 9
        expected = (10 - (check_sum % _U(10)).astype(np.int16)) % 10
        check_ok = check_byte == expected

    if not wide:
        counter = parts[0].view(np.int64)
        if len(parts) > 1:
            counter = counter + parts[1].view(np.int64) * 10**8
        if len(parts) > 2:
            counter += parts[2].view(np.int64) * 10**16
    else:
        counter = np.zeros(rows, dtype=object)
        for k, part in enumerate(parts):
            counter += part.astype(object) * (10 ** (8 * k))

    if check_ok is not None:
        reason[~check_ok] = CHECK_DIGIT
    reason[~digits_ok] = DIGITS
    if lengths is not None:
        reason[lengths != lay.length] = LENGTH
    if lay.prefix_windows:
        prefix_ok = np.ones(rows, dtype=bool) if lengths is None else lengths >= lay.prefix_len
        for off, mask, fold, pat in lay.prefix_windows:
            w = fetch64(off) | fold
            w &= mask
            prefix_ok &= w == pat
        reason[~prefix_ok] = PREFIX
    return reason, counter


def _empty_counters(n: int, wide: bool) -> np.ndarray:
    return np.zeros(n, dtype=object if wide else np.int64)


def classify_cells(
    raw: np.ndarray, starts: np.ndarray, lengths: np.ndarray, rule: NumberingRule
) -> tuple[np.ndarray, np.ndarray]:
    """Classify cells at arbitrary positions: ``raw[starts[i] : starts[i] + lengths[i]]``.

    ``raw`` must have ``PAD`` bytes before the first and after the last cell.
    """
    lay = _layout(rule)
    wide = rule.width > INT64_WIDTH
    n = len(starts)
    reason = np.empty(n, dtype=np.uint8)
    counters = _empty_counters(n, wide)
    windows = byte_windows(raw)
    last64 = len(windows) - 1
    last8 = len(raw) - 1
    for b in range(0, n, BLOCK_ROWS):
        s = starts[b : b + BLOCK_ROWS]

        def fetch64(off: int, s: np.ndarray = s) -> np.ndarray:
            return windows[np.minimum(s + off, last64)]

        def fetch8(off: int, s: np.ndarray = s) -> np.ndarray:
            return raw[np.minimum(s + off, last8)]

        r, c = _classify_block(fetch64, fetch8, lengths[b : b + BLOCK_ROWS], len(s), lay, wide)
        reason[b : b + len(s)] = r
        counters[b : b + len(s)] = c
    return reason, counters


def strided_reach(rule: NumberingRule, stride: int) -> tuple[int, int]:
    """Lowest and highest (exclusive) byte offsets the strided kernel reads around a line."""
    lay = _layout(rule)
    offsets = [off for off, _, _ in lay.digit_windows] + [
        off for off, _, _, _ in lay.prefix_windows
    ]
    low = min([0, *offsets])
    high = max([stride, lay.prefix_len + lay.width + 1, *(off + 8 for off in offsets)])
    return low, high


def classify_strided(
    raw: np.ndarray,
    first: int,
    stride: int,
    rows: int,
    rule: NumberingRule,
    terminator: bytes,
    out: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Classify ``rows`` lines of exactly ``stride`` bytes starting at ``raw[first]``.

    Each line is taken to be one cell of the rule's length followed by ``terminator``.
    Writes reasons, counters and a mask of lines whose terminator is where it should be into
    ``out``. Every byte in ``strided_reach`` of every line must lie inside ``raw``.
    """
    lay = _layout(rule)
    wide = rule.width > INT64_WIDTH
    reason, counters, term_ok = out
    windows = byte_windows(raw)
    tlen = len(terminator)
    for b in range(0, rows, BLOCK_ROWS):
        m = min(BLOCK_ROWS, rows - b)
        base = first + stride * b
        stop_span = stride * (m - 1) + 1

        def fetch64(off: int, base: int = base, span: int = stop_span) -> np.ndarray:
            return windows[base + off : base + off + span : stride]

        def fetch8(off: int, base: int = base, span: int = stop_span) -> np.ndarray:
            return raw[base + off : base + off + span : stride]

        r, c = _classify_block(fetch64, fetch8, None, m, lay, wide)
        ok = fetch8(stride - 1) == 10
        if tlen == 2:
            ok &= fetch8(stride - 2) == 13
        reason[b : b + m] = r
        counters[b : b + m] = c
        term_ok[b : b + m] = ok
