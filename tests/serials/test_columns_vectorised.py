"""The carton and customer columns are read with array operations when the text is plain, and
row by row otherwise. Whatever the text, both readers give the same placements or the same
refusal: the fast one only ever steps aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from serials import columns
from serials.engine.errors import SerialFileError

CELL = st.one_of(
    st.text(alphabet="SNvlt0123456789 -_/", max_size=14),
    st.sampled_from(["", " ", "  SN1 ", "sn0001", "SN0001"]),
    st.text(alphabet='SN01,"é\x00\r', max_size=6),  # what sends it to the row-by-row reader
)
DATE = st.one_of(
    st.sampled_from(
        ["", "2026-11-24", "2026-02-30", "2026-11-24T10:00", "24/11/2026", " 2026-01-05 "]
    ),
    st.dates().map(lambda day: day.isoformat()),
)


def _cell(text: str, quoted: bool) -> str:
    return '"' + text.replace('"', '""') + '"' if quoted else text


@st.composite
def lists(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(["production", "carton", "distribution"]))
    header = {
        "production": ["serial", "carton"],
        "carton": ["serial", "box_no", "shipped on"],
        "distribution": ["sn", "customer", "ship date"],
    }[kind]
    quote_all = draw(st.booleans())
    rows = [",".join(_cell(name, quote_all) for name in header)]
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 9)) == 0:
            rows.append("")  # a blank line
            continue
        cells = [draw(CELL), draw(CELL), draw(DATE)][: len(header) - draw(st.integers(0, 1))]
        rows.append(",".join(_cell(cell, quote_all or draw(st.booleans())) for cell in cells))
    return kind, "\n".join(rows) + draw(st.sampled_from(["\n", ""]))


def _read(path: Path, kind: str) -> object:
    try:
        return columns.read_list_columns(path, kind=kind)
    except SerialFileError as error:
        return ("refused", str(error))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=lists())
@example(case=("production", 'serial,carton\n"SN0001","CTN-1"\nsn0002,\n  SN0003 , C2\n'))
@example(case=("carton", 'serial,carton\nSN0001,"C,1"\n'))  # a comma inside quotes
@example(case=("distribution", "serial,customer,shipped_on\nSN1,ACME,2026-02-30\n"))
def test_both_readers_agree(
    tmp_path: Path, case: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, text = case
    path = tmp_path / "list.csv"
    path.write_bytes(text.encode("utf-8"))
    fast = _read(path, kind)
    with monkeypatch.context() as patched:
        patched.setattr(columns, "_read_text_vectorised", lambda *args, **kwargs: None)
        slow = _read(path, kind)
    assert fast == slow


def test_a_plain_list_takes_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cartons.csv"
    path.write_text(
        '"serial","carton"\n' + "".join(f'"SN{i:06d}","CTN-{i // 50:04d}"\n' for i in range(5000))
    )
    calls: list[object] = []
    original = columns._read_text_vectorised

    def spy(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(result)
        return result

    monkeypatch.setattr(columns, "_read_text_vectorised", spy)
    placed = columns.read_list_columns(path, kind="production")
    assert calls and calls[0] is not None
    assert placed is not None and len(placed) == 5000
    assert (placed.lines[0], placed.serials[0], placed.cartons[0]) == (2, "SN000000", "CTN-0000")  # type: ignore[index]


def test_a_year_python_has_no_date_for_is_refused_by_its_line(tmp_path: Path) -> None:
    """numpy reads 0000-01-01; Python has no such date: the row-by-row reader names the line."""
    path = tmp_path / "shipped.csv"
    path.write_text("sn,customer,ship date\nSN0001,ACME,2026-01-02\nSN0002,ACME,0000-01-01\n")
    with pytest.raises(
        SerialFileError, match="line 3: shipment date “0000-01-01” is not a real day"
    ):
        columns.read_list_columns(path, kind="distribution")


def test_a_large_file_without_a_last_line_end_reads_to_its_last_cell(tmp_path: Path) -> None:
    """Files of 8 MiB and more are memory-mapped, with no zero bytes around them to read past."""
    path = tmp_path / "big.csv"
    body = "".join(f"SN{i:07d},C{i // 50:04d}\n" for i in range(600_000))
    path.write_text("serial,carton\n" + body + 'SN9999999,"C1"')
    placed = columns.read_list_columns(path, kind="production")
    assert placed is not None and len(placed) == 600_001
    assert (placed.serials[-1], placed.cartons[-1], placed.lines[-1]) == (
        "SN9999999",
        "C1",
        600_002,
    )  # type: ignore[index]
