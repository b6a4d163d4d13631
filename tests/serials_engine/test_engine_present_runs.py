"""``Validation.present_runs``: the whole set of well-formed counters as runs (the registry's
input), never cut by the report's limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from serials.engine import NumberingRule, validate_serials
from serials.engine.api import run_file

RULE = NumberingRule(prefix="SN", width=6)


def _runs(counters: set[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for counter in sorted(counters):
        if runs and runs[-1][1] == counter - 1:
            runs[-1] = (runs[-1][0], counter)
        else:
            runs.append((counter, counter))
    return runs


@settings(max_examples=150, deadline=None)
@given(
    counters=st.lists(st.integers(min_value=0, max_value=3000), max_size=400), junk=st.booleans()
)
def test_it_gives_every_run_of_present_counters(
    counters: list[int], junk: bool, tmp_path_factory
) -> None:  # noqa: E501
    path = tmp_path_factory.mktemp("runs") / "list.csv"
    values = [f"SN{c:06d}" for c in counters] + (["BAD1", "SN12"] if junk else [])
    path.write_text("serial\n" + "\n".join(values) + "\n")
    lo, hi = run_file(path, RULE, limit=1).present_runs
    assert list(zip(lo.tolist(), hi.tolist(), strict=True)) == _runs(set(counters))


def test_it_has_no_runs_without_valid_serials() -> None:
    assert validate_serials(["nope"], None, RULE).unique == 0
