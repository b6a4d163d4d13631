"""Allocated code lists: non-sequential codes (random anti-counterfeit codes, for instance).

"Missing" means allocated but unused. Codes are stripped and upper-cased like serials; empty
ones are skipped. Counts are exact and every list is cut at ``limit`` entries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .contract import CODES_REPORT_KEYS, CodesReport, DuplicateCode, UnknownCode

__all__ = ["CODES_REPORT_KEYS", "validate_codes"]


def _clean(codes: Sequence[object] | np.ndarray) -> list[str]:
    if isinstance(codes, np.ndarray):
        codes = codes.tolist()
    out = []
    for code in codes:
        text = (
            code.decode("utf-8") if isinstance(code, bytes) else ("" if code is None else str(code))
        )
        out.append(text.strip().upper())
    return out


def validate_codes(
    used_codes: Sequence[str] | np.ndarray,
    allocated_codes: Sequence[str] | np.ndarray,
    lines: Sequence[int] | np.ndarray | None = None,
    limit: int = 1000,
) -> CodesReport:
    """Compare used codes with the allocated list.

    A ``CodesReport``: ``rows`` (used codes read), ``allocated`` (distinct allocated codes),
    ``unique`` (distinct used codes); ``unknown_count``/``unknown`` (used but not allocated:
    ``UnknownCode(line, code)`` in line order, one per line); ``unused_count``/``unused``
    (allocated codes never used, in allocation order); ``duplicate_count``/``duplicates`` (used
    codes that occur more than once: ``DuplicateCode(code, count, lines)``, by first line).
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a whole number of at least 0, not {limit!r}")
    used_all = _clean(used_codes)
    if lines is None:
        line_all = list(range(1, len(used_all) + 1))
    else:
        line_all = [int(x) for x in lines]
        if len(line_all) != len(used_all):
            raise ValueError("used_codes and lines differ in length")
    keep = [i for i, code in enumerate(used_all) if code]
    used = np.array([used_all[i] for i in keep], dtype=str) if keep else np.zeros(0, dtype="U1")
    used_lines = np.array([line_all[i] for i in keep], dtype=np.int64)

    allocated_list = [c for c in _clean(allocated_codes) if c]
    allocated = np.array(allocated_list, dtype=str) if allocated_list else np.zeros(0, dtype="U1")
    alloc_unique, alloc_first = np.unique(allocated, return_index=True)
    alloc_in_order = allocated[np.sort(alloc_first)]

    known = np.isin(used, alloc_unique) if len(used) else np.zeros(0, dtype=bool)
    unknown_pos = np.flatnonzero(~known)
    unknown = [UnknownCode(int(used_lines[i]), str(used[i])) for i in unknown_pos[:limit]]

    used_unique = np.unique(used)
    unused_mask = ~np.isin(alloc_in_order, used_unique)
    unused_codes = alloc_in_order[unused_mask]

    duplicates: list[DuplicateCode] = []
    duplicate_count = 0
    if len(used):
        uniq, first, inverse, counts = np.unique(
            used, return_index=True, return_inverse=True, return_counts=True
        )
        inverse = inverse.ravel()
        dup_groups = np.flatnonzero(counts > 1)
        duplicate_count = len(dup_groups)
        if duplicate_count:
            chosen = dup_groups[np.argsort(first[dup_groups], kind="stable")][:limit]
            by_group = np.argsort(inverse, kind="stable")
            bounds = np.concatenate([[0], np.cumsum(counts)])
            for g in chosen.tolist():
                members = by_group[bounds[g] : bounds[g] + min(int(counts[g]), limit)]
                duplicates.append(
                    DuplicateCode(str(uniq[g]), int(counts[g]), tuple(used_lines[members].tolist()))
                )

    return CodesReport(
        rows=len(used),
        allocated=len(alloc_unique),
        unique=len(used_unique),
        unknown_count=len(unknown_pos),
        unknown=tuple(unknown),
        unused_count=len(unused_codes),
        unused=tuple(str(c) for c in unused_codes[:limit]),
        duplicate_count=duplicate_count,
        duplicates=tuple(duplicates),
    )
