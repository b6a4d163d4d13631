"""ISO 2859-1 single sampling plans for normal inspection, and reproducible sample drawing.

Pure Python, standard library only (no Django), so it can be used from anywhere: views, tasks,
management commands, and re-checked years later from a stored seed.

Tables
------
* Table 1 (sample size code letters): lot size x inspection level (S-1..S-4, I, II, III).
* Table 2-A (single sampling plans for normal inspection, "master table"): code letter x AQL,
  each cell either a plan (Ac, Re) or an arrow. The grid below is written exactly as the
  standard prints it, arrows included; arrows are resolved in code ("use the first sampling
  plan below / above the arrow"), and the plan then used is the one of the letter the arrow
  leads to: that letter's sample size together with that cell's Ac/Re.

ANSI/ASQ Z1.4 Table II-A and MIL-STD-105E Table II-A are numerically identical to ISO 2859-1
Table 2-A for normal inspection, so published copies of those were used as sources.

Sources checked (every one of the 16 x 26 Table 2-A cells, after arrow resolution, agrees with
source 1; sources 2-4 agree with every cell they show; Table 1 agrees with sources 1, 4, 5):

1. AQLSchemes R package (J. S. Lawson), ``AAZ14Single``: the full MIL-STD-105E / ANSI/ASQ Z1.4
   normal-inspection tables with arrows already resolved (sample size, Ac and Re per code letter
   and AQL), and Table I; read from the copy in github.com/fjgonzalezmgt/AQLSchemesCust.
2. MIL-STD-105E Table II-A as reproduced in "Tablas" (scribd 563507790): the Ac/Re sequence of
   every row (A ends at 30/31; B-E reach 44/45; F-Q end at 21/22; R starts at 1/2).
3. nibs.org FMOC "AC-TABLE.ASC", Table 1-A (derived from MIL-STD-105E): level II plans with the
   arrows drawn, AQL 0.65-15, code letters A-Q.
4. qualitycontrolpartners.com "AQL tables" (from ISO 2859-1): Table 1 and the positions of the
   plans in Table 2-A for AQL 0.065-6.5, code letters A-L.
5. pdfcoffee "AQL sampling chart" (ANSI/ASQC Z1.4 / ISO 2859 Table I): Table 1 in full;
   wisetool.com "AQL sampling table": its first rows.

The one place sources differ: cell (A, AQL 10). Source 3 draws an up arrow there, but row A has
no plan above it, so that arrow cannot be followed. This module uses a down arrow instead, which
leads (through B's down arrow) to C: n=5, Ac 1, Re 2, the same as source 1's resolved table.
Cell (R, AQL 0.015) is the mirror case: an up arrow, since nothing lies below R. It leads to P
(n=800, Ac 0, Re 1), as in source 1. Simplified web charts that print E with n=13 under AQL 2.5
(e.g. minmen.co) ignore the arrow; the standard moves to F, n=20.

AQLs above 10 are only meaningful as nonconformities per 100 units; the table holds them anyway.

100 % inspection
----------------
Table 2-A's footnote: "if sample size equals or exceeds lot size, carry out 100 % inspection".
`sampling_plan` applies it after the arrows are resolved: when the plan's sample size is at least
the lot size, ``sample_size`` becomes the lot size and ``full_inspection`` is True. ``accept``
and ``reject`` are still those of the plan (the lot is accepted if at most Ac of its items are
nonconforming), and ``plan_letter`` still names the plan they come from.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from heapq import heapify, heappop, heappush
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

__all__ = [
    "AQL_VALUES",
    "CODE_LETTERS",
    "INSPECTION_LEVELS",
    "SAMPLE_SIZES",
    "SamplingPlan",
    "Table2APlan",
    "code_letter",
    "draw_sample",
    "new_seed",
    "sampling_plan",
    "table_2a_plan",
]

INSPECTION_LEVELS: Final[tuple[str, ...]] = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

CODE_LETTERS: Final[tuple[str, ...]] = tuple("ABCDEFGHJKLMNPQR")

SAMPLE_SIZES: Final = MappingProxyType(
    dict(
        zip(
            CODE_LETTERS,
            (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000),
            strict=True,
        )
    )
)

# Table 1, one row per lot-size range: (smallest lot size, letters for S-1 S-2 S-3 S-4 I II III).
# Each range runs up to the next row's smallest lot size minus one; the last is open-ended.
_TABLE_1: Final[tuple[tuple[int, str], ...]] = (
    (2, "AAAAAAB"),
    (9, "AAAAABC"),
    (16, "AABBBCD"),
    (26, "ABBCCDE"),
    (51, "BBCCCEF"),
    (91, "BBCDDFG"),
    (151, "BCDEEGH"),
    (281, "BCDEFHJ"),
    (501, "CCEFGJK"),
    (1201, "CDEGHKL"),
    (3201, "CDFGJLM"),
    (10001, "CDFHKMN"),
    (35001, "DEGJLNP"),
    (150001, "DEGJMPQ"),
    (500001, "DEHKNQR"),
)

# Table 2-A as printed, in two halves so that it fits the line length. "Ac/Re" is a plan,
# ↓ means "use the first sampling plan below the arrow", ↑ "the first sampling plan above".
_TABLE_2A_TEXT: Final = """
    0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65
A       ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓
B       ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓
C       ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓
D       ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓
E       ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓
F       ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1
G       ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑
H       ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓
J       ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2
K       ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3
L       ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4
M       ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6
N       ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8
P       ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11
Q     0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15
R       ↑     ↑   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22

      1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
A       ↓     ↓     ↓     ↓   0/1     ↓     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31
B       ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45
C       ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ↑
D       ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ↑     ↑
E     0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ↑     ↑     ↑
F       ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑
G       ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑
H     1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
J     2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
K     3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
L     5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
M     7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
N   10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
P   14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
Q   21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
R       ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑
"""

_DOWN: Final = "down"
_UP: Final = "up"

_Cell: TypeAlias = tuple[int, int] | Literal["down", "up"]


def _parse_table_2a(text: str) -> tuple[tuple[str, ...], dict[str, tuple[_Cell, ...]]]:
    """Read the printed grid into (AQL column labels, letter -> cells), checking its shape."""
    aqls: list[str] = []
    rows: dict[str, list[_Cell]] = {letter: [] for letter in CODE_LETTERS}
    for block in text.strip().split("\n\n"):
        header, *lines = block.splitlines()
        columns = header.split()
        aqls.extend(columns)
        if [line.split()[0] for line in lines] != list(CODE_LETTERS):
            raise ValueError("Table 2-A block does not list code letters A..R in order")
        for line in lines:
            letter, *tokens = line.split()
            if len(tokens) != len(columns):
                raise ValueError(f"Table 2-A row {letter} has {len(tokens)} cells")
            for token in tokens:
                if token == "↓":
                    rows[letter].append(_DOWN)
                elif token == "↑":
                    rows[letter].append(_UP)
                else:
                    accept, reject = token.split("/")
                    rows[letter].append((int(accept), int(reject)))
    return tuple(aqls), {letter: tuple(cells) for letter, cells in rows.items()}


_AQL_LABELS, _TABLE_2A = _parse_table_2a(_TABLE_2A_TEXT)

AQL_VALUES: Final[tuple[str, ...]] = _AQL_LABELS

# Decimal compares by value, so "0.1", "0.10" and 0.1 all find the column labelled "0.10".
_AQL_BY_VALUE: Final = {Decimal(label): label for label in AQL_VALUES}


@dataclass(frozen=True, slots=True)
class Table2APlan:
    """One resolved cell of Table 2-A: the plan of ``plan_letter`` (after following arrows)."""

    plan_letter: str
    sample_size: int
    accept: int
    reject: int


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """A single sampling plan for normal inspection of one lot.

    ``code_letter`` comes from Table 1; ``plan_letter`` is the letter whose plan is used after
    following Table 2-A's arrows. ``sample_size`` is that plan's sample size, or the lot size
    when ``full_inspection`` is True. Accept the lot if at most ``accept`` items are
    nonconforming, reject it at ``reject`` or more (always ``accept + 1``).
    """

    code_letter: str
    plan_letter: str
    sample_size: int
    accept: int
    reject: int
    lot_size: int
    level: str
    aql: str
    full_inspection: bool


def _check_level(level: str) -> str:
    if not isinstance(level, str):
        raise TypeError(f"level must be a string, not {type(level).__name__}")
    normalised = level.strip().upper()
    if normalised not in INSPECTION_LEVELS:
        raise ValueError(
            f"Unknown inspection level {level!r}; use one of {', '.join(INSPECTION_LEVELS)}"
        )
    return normalised


def _check_lot_size(lot_size: int) -> int:
    if isinstance(lot_size, bool) or not isinstance(lot_size, int):
        raise TypeError(f"lot_size must be an int, not {type(lot_size).__name__}")
    if lot_size < 2:
        raise ValueError(
            f"lot_size must be at least 2 (ISO 2859-1 Table 1 starts at 2), got {lot_size}"
        )
    return lot_size


def _aql_label(aql: str | Decimal | float) -> str:
    """Map an AQL given as text, Decimal, float or int onto its Table 2-A column label."""
    invalid = ValueError(f"Unknown AQL {aql!r}; ISO 2859-1 Table 2-A has {', '.join(AQL_VALUES)}")
    if isinstance(aql, bool):
        raise invalid
    try:
        # str() first: a float such as 0.1 then reads as Decimal("0.1"), not its binary value.
        value = aql if isinstance(aql, Decimal) else Decimal(str(aql).strip())
    except (InvalidOperation, ValueError):
        raise invalid from None
    if not value.is_finite() or value not in _AQL_BY_VALUE:
        raise invalid
    return _AQL_BY_VALUE[value]


def code_letter(*, lot_size: int, level: str) -> str:
    """Return the ISO 2859-1 Table 1 sample size code letter for a lot size and inspection level.

    ``level`` is one of S-1, S-2, S-3, S-4, I, II, III (case and surrounding spaces ignored).
    Raises ValueError for a lot size below 2 or an unknown level.
    """
    column = INSPECTION_LEVELS.index(_check_level(level))
    _check_lot_size(lot_size)
    letters = _TABLE_1[0][1]
    for smallest, row in _TABLE_1:
        if lot_size < smallest:
            break
        letters = row
    return letters[column]


def table_2a_plan(*, code_letter: str, aql: str | Decimal | float) -> Table2APlan:
    """Return the Table 2-A plan for a code letter and AQL, following arrows to another letter.

    The returned sample size is the plan letter's own, whatever the lot size (see
    `sampling_plan` for the 100 % inspection rule). Raises ValueError for an unknown letter
    or AQL.
    """
    if code_letter not in SAMPLE_SIZES:
        raise ValueError(
            f"Unknown code letter {code_letter!r}; use one of {', '.join(CODE_LETTERS)}"
        )
    column = AQL_VALUES.index(_aql_label(aql))
    row = CODE_LETTERS.index(code_letter)
    while True:
        cell = _TABLE_2A[CODE_LETTERS[row]][column]
        if cell == _DOWN:
            row += 1
        elif cell == _UP:
            row -= 1
        else:
            accept, reject = cell
            letter = CODE_LETTERS[row]
            return Table2APlan(
                plan_letter=letter, sample_size=SAMPLE_SIZES[letter], accept=accept, reject=reject
            )
        if not 0 <= row < len(CODE_LETTERS):
            raise RuntimeError(
                f"Table 2-A arrow from {code_letter} at AQL {AQL_VALUES[column]} leaves the table"
            )


def sampling_plan(*, lot_size: int, level: str = "II", aql: str | Decimal | float) -> SamplingPlan:
    """Return the ISO 2859-1 single sampling plan for normal inspection of one lot.

    Table 1 gives the code letter, Table 2-A (arrows followed) the plan. If the plan's sample
    size equals or exceeds the lot size, the whole lot is inspected: ``sample_size`` is the lot
    size, ``full_inspection`` is True, and the plan's Ac/Re still decide the lot.
    ``aql`` is returned in the table's spelling ("0.65", "1.0", "10").
    Raises ValueError for a lot size below 2, an unknown level or an AQL not in Table 2-A.
    """
    letter = code_letter(lot_size=lot_size, level=level)
    label = _aql_label(aql)
    plan = table_2a_plan(code_letter=letter, aql=label)
    full_inspection = plan.sample_size >= lot_size
    return SamplingPlan(
        code_letter=letter,
        plan_letter=plan.plan_letter,
        sample_size=lot_size if full_inspection else plan.sample_size,
        accept=plan.accept,
        reject=plan.reject,
        lot_size=lot_size,
        level=_check_level(level),
        aql=label,
        full_inspection=full_inspection,
    )


def new_seed() -> int:
    """Return a fresh, unpredictable seed for `draw_sample` (a non-negative 63-bit int).

    Store it with the inspection: the same seed and inputs always redraw the same sample.
    """
    return secrets.randbits(63)


class _Draws:
    """Uniform integer draws built only on ``Random.random()``.

    Python promises that ``random()`` yields the same sequence for the same int seed in every
    version; ``randrange``, ``shuffle`` and ``sample`` carry no such promise (their algorithms
    have changed before). Samples must be redrawable from stored seeds for years, so nothing
    else of the ``random`` module is used.
    """

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random

    def below(self, n: int) -> int:
        """An int in [0, n); the bias of scaling a 53-bit float is below n / 2**53."""
        return min(int(self._random() * n), n - 1)

    def pick(self, pool: list[int], k: int) -> list[int]:
        """k distinct items of pool (a partial Fisher-Yates shuffle, done on pool in place)."""
        for i in range(k):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


def _allocate(sizes: list[int], total: int, draws: _Draws) -> list[int]:
    """Split ``total`` over groups of ``sizes`` by the largest remainder method.

    Every count is its exact share ``total * size / sum(sizes)`` rounded down or up. Ties in
    the remainder go to groups in a random order drawn from ``draws``, so that when there are
    more groups than units, which groups are left out is itself random. If ``total`` is at least
    the number of groups, each group left at 0 then gets one unit, taken from the group that is
    furthest above its exact share (and keeps at least one).
    """
    population = sum(sizes)
    # A random rank for each group; Fisher-Yates over the group indices.
    rank = [0] * len(sizes)
    for position, group in enumerate(draws.pick(list(range(len(sizes))), len(sizes))):
        rank[group] = position
    counts = [total * size // population for size in sizes]
    remainders = [total * size % population for size in sizes]
    leftover = total - sum(counts)
    by_remainder = sorted(range(len(sizes)), key=lambda g: (-remainders[g], rank[g]))
    for group in by_remainder[:leftover]:
        counts[group] += 1

    if total >= len(sizes):
        empty = sorted((g for g in range(len(sizes)) if counts[g] == 0), key=lambda g: rank[g])
        # Surplus over the exact share, scaled by the population to stay in integers.
        donors = [
            (-(counts[g] * population - total * sizes[g]), rank[g], g)
            for g in range(len(sizes))
            if counts[g] >= 2
        ]
        heapify(donors)
        for group in empty:
            _, _, donor = heappop(donors)
            counts[donor] -= 1
            counts[group] = 1
            if counts[donor] >= 2:
                surplus = counts[donor] * population - total * sizes[donor]
                heappush(donors, (-surplus, rank[donor], donor))
    return counts


def draw_sample(
    *,
    serials: Sequence[str],
    cartons: Sequence[str | None] | None,
    size: int,
    seed: int,
) -> list[int]:
    """Draw a reproducible random sample of ``size`` units; return sorted indices into serials.

    Guarantees:

    * The same serials, cartons, size and seed give the same indices on every run, machine and
      Python version: only ``random.Random(seed).random()`` is used (never the global RNG), and
      nothing depends on hashing order (PYTHONHASHSEED).
    * ``size >= len(serials)``: every index (the whole lot is inspected).
    * ``cartons`` None or all None: a simple random sample of all units.
    * Otherwise the sample is spread over cartons (``cartons[i]`` is the carton of
      ``serials[i]``; units with None form one group of their own): each carton gets its share
      of ``size`` in proportion to its number of units by the largest remainder method (its
      exact share rounded down or up). When ``size`` is at least the number of cartons, every
      carton gets at least one unit, taken from the cartons furthest above their share; only
      when many cartons are far smaller than their fair unit can that move a big carton more
      than one unit below its share. Which cartons are left out when ``size`` is smaller than
      their number is random too. Units are then drawn at random within each carton.

    Raises ValueError for an empty population, cartons of a different length than serials,
    a size below 1 or a negative seed (``random.Random`` treats -s like s).
    """
    if len(serials) == 0:
        raise ValueError("Cannot draw a sample from an empty population: serials is empty")
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be an int, not {type(size).__name__}")
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative (use new_seed()), got {seed}")
    if cartons is not None and len(cartons) != len(serials):
        raise ValueError(
            f"cartons has {len(cartons)} entries but serials has {len(serials)}; "
            "give one carton (or None) per serial"
        )

    if size >= len(serials):
        return list(range(len(serials)))

    draws = _Draws(seed)
    if cartons is None or all(carton is None for carton in cartons):
        return sorted(draws.pick(list(range(len(serials))), size))

    # Groups in order of first appearance (a dict keeps insertion order; no hash order leaks).
    groups: dict[str | None, list[int]] = {}
    for index, carton in enumerate(cartons):
        groups.setdefault(carton, []).append(index)
    members = list(groups.values())
    counts = _allocate([len(m) for m in members], size, draws)
    chosen: list[int] = []
    for pool, count in zip(members, counts, strict=True):
        chosen.extend(draws.pick(pool, count))
    return sorted(chosen)
