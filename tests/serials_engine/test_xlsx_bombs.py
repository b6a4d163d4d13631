"""Workbooks built to take a reader down: a cell at XFD1048576 (the reader would allocate for 17
billion cells and abort the process), a far corner at CV1000000 (4 GB for nothing), a declared
dimension as large, and one shared string of 200 KiB. Each is refused with a message naming the
part and the limit before any cell is read; an ordinary workbook still reads."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from serials.engine.api import read_serial_cells
from serials.engine.errors import SerialFileError
from tests.hostile.corpus import workbook_parts
from untrusted import xlsx

ROOT = Path(__file__).resolve().parents[2]


def workbook(path: Path, rows: str, *, shared: str = "", dimension: str = "") -> Path:
    """A minimal XLSX: one sheet whose <sheetData> is ``rows``, with shared strings (the
    hostile corpus's builder)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in workbook_parts(rows, shared=shared, dimension=dimension).items():
            archive.writestr(name, data)
    return path


def _serial_rows(count: int) -> str:
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>serial</t></is></c></row>'
    return header + "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>VLT{i:09d}</t></is></c></row>'
        for i in range(2, count + 2)
    )


BOMBS = {
    "one-cell-at-XFD1048576": (
        {"rows": _serial_rows(3) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'},
        "places a cell at XFD1048576, an area of 17,179,869,184 cells (limit 50,000,000)",
    ),
    "far-corner-CV1000000": (
        {"rows": _serial_rows(3) + '<row r="1000000"><c r="CV1000000"><v>1</v></c></row>'},
        "places a cell at CV1000000, an area of 100,000,000 cells",
    ),
    "declared-dimension": (
        {"rows": _serial_rows(3), "dimension": '<dimension ref="A1:XFD1048576"/>'},
        "declares XFD1048576",
    ),
    "one-long-shared-string": (
        {
            "rows": "".join(
                f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>' for i in range(1, 2001)
            ),
            "shared": "<si><t>" + "9" * (200 << 10) + "</t></si>",
        },
        "a cell in xl/sharedStrings.xml holds more than 32768 bytes of text",
    ),
    "long-inline-text-cut-across-pieces": (
        {"rows": f'<row r="1"><c r="A1" t="inlineStr"><is><t>{"x" * (3 << 20)}</t></is></c></row>'},
        "a cell in xl/worksheets/sheet1.xml holds more than 32768 bytes",
    ),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_bomb_is_refused_before_it_is_read(tmp_path: Path, name: str) -> None:
    parts, message = BOMBS[name]
    path = workbook(tmp_path / f"{name}.xlsx", **parts)
    assert path.stat().st_size < 1_100_000  # small on the wire
    with pytest.raises(SerialFileError) as refused:
        read_serial_cells(path)
    assert message in str(refused.value), refused.value
    assert path.name in str(refused.value)  # the message names the file


def test_the_process_that_meets_the_worst_one_lives(tmp_path: Path) -> None:
    """Before the check, calamine asked for 512 GiB and the process died (SIGABRT); a child
    process reads it here so that a regression fails this test instead of killing the run."""
    path = workbook(tmp_path / "corner.xlsx", **BOMBS["one-cell-at-XFD1048576"][0])
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from serials.engine.api import read_serial_cells\n"
        "from serials.engine.errors import SerialFileError\n"
        "try:\n    read_serial_cells(sys.argv[2])\n"
        "except SerialFileError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "17,179,869,184 cells" in done.stdout


def test_an_ordinary_workbook_reads_as_before(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "ok.xlsx", _serial_rows(2000), dimension='<dimension ref="A1:A2001"/>'
    )
    lines, values = read_serial_cells(path)
    assert len(values) == 2000 and values[0] == "VLT000000002" and lines[0] == 2


def test_the_limits_are_the_module_s_documented_ones() -> None:
    assert xlsx.XLSX_MAX_CELLS == 50_000_000
    assert xlsx.XLSX_MAX_CELL_BYTES == 32 << 10


def test_a_workbook_that_slips_past_the_checks_kills_only_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the area check lifted, calamine meets XFD1048576 and asks for 512 GiB: in the
    confined child, which dies; this process gets the limit in words."""
    monkeypatch.setattr(xlsx, "XLSX_MAX_CELLS", 1 << 62)
    monkeypatch.setattr(xlsx, "XLSX_READ_MAX_MEMORY", 1 << 30)
    path = workbook(tmp_path / "corner.xlsx", **BOMBS["one-cell-at-XFD1048576"][0])
    with pytest.raises(SerialFileError) as refused:
        read_serial_cells(path)
    assert "the workbook is too heavy to read" in str(refused.value)
    assert "needs more than 1,024 MiB of memory" in str(refused.value)
    assert "corner.xlsx" in str(refused.value)


def test_a_slow_workbook_meets_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "XLSX_MAX_CELLS", 1 << 62)
    monkeypatch.setattr(xlsx, "XLSX_READ_MAX_SECONDS", 0.5)
    path = workbook(tmp_path / "far.xlsx", **BOMBS["far-corner-CV1000000"][0])
    with pytest.raises(SerialFileError, match="the workbook is too heavy to read"):
        read_serial_cells(path)
