"""Placements: where each serial went, read from the other columns of carton, distribution and
production lists when the list is validated, and written in the result's transaction."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from serials import columns, engine, services
from serials.models import NumberingRule, SerialException, SerialList, SerialPlacement
from tests.conftest import Cast


def _validated(
    cast: Cast, content: bytes, name: str, kind: str, key: str = "own", user: str = "supplier_a"
) -> SerialList:
    serial_list = services.serial_list_upload(
        batch=cast.batches[key],
        user=cast.users[user],
        uploaded_file=SimpleUploadedFile(name, content),
        kind=kind,
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    return serial_list


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _placed(serial_list: SerialList) -> list[tuple]:
    return list(
        SerialPlacement.objects.filter(serial_list=serial_list)
        .order_by("line")
        .values_list("line", "serial", "carton", "customer_reference", "shipped_on")
    )


# ---------------------------------------------------------------- through the worker's service


def test_it_places_a_carton_list_from_csv(cast: Cast, rule: NumberingRule) -> None:
    content = (
        b"Serial,Carton_No,Shipped On\n"
        b"VLT000001,CTN-001,2026-11-20\n"
        b"vlt000002 , CTN-001 ,2026-11-20T08:30:00\n"
        b"\n"
        b"VLT000003,CTN-002,2026-11-21\n"
    )
    serial_list = _validated(cast, content, "cartons.csv", "carton")
    assert serial_list.status == SerialList.Status.DONE, serial_list.error
    day = datetime.date(2026, 11, 20)
    assert _placed(serial_list) == [
        (2, "VLT000001", "CTN-001", "", day),
        (3, "VLT000002", "CTN-001", "", day),
        (5, "VLT000003", "CTN-002", "", datetime.date(2026, 11, 21)),
    ]
    placement = SerialPlacement.objects.filter(serial_list=serial_list).first()
    assert placement.scope == f"{cast.orders['own'].buyer_id}:05012345678900"
    assert placement.batch_id == cast.batches["own"].pk


def test_it_places_a_distribution_list_from_xlsx(cast: Cast, rule: NumberingRule) -> None:
    content = _xlsx(
        [
            ["serial", "customer_reference", "ship_date"],
            ["VLT000001", "ACME-778", datetime.date(2026, 1, 31)],
            ["VLT000002", "Shop 12", datetime.datetime(2026, 2, 1, 15, 0)],
            ["VLT000003", 4471, "2026-02-02"],
            ["VLT000004", "ACME-778", 46000],  # a spreadsheet's day number: 9 Dec 2025
        ]
    )
    serial_list = _validated(cast, content, "shipped.xlsx", "distribution")
    assert serial_list.status == SerialList.Status.DONE, serial_list.error
    assert _placed(serial_list) == [
        (2, "VLT000001", "", "ACME-778", datetime.date(2026, 1, 31)),
        (3, "VLT000002", "", "Shop 12", datetime.date(2026, 2, 1)),
        (4, "VLT000003", "", "4471", datetime.date(2026, 2, 2)),
        (5, "VLT000004", "", "ACME-778", datetime.date(2025, 12, 9)),
    ]


def test_it_places_a_carton_list_from_xlsx(cast: Cast, rule: NumberingRule) -> None:
    content = _xlsx([["SN", "Box"], ["VLT000009", 17], ["VLT000010", "B-2"]])
    serial_list = _validated(cast, content, "boxes.xlsx", "carton")
    assert [(s, c) for _, s, c, _, _ in _placed(serial_list)] == [
        ("VLT000009", "17"),
        ("VLT000010", "B-2"),
    ]


def test_it_places_a_production_list_with_a_carton_column(cast: Cast, rule: NumberingRule) -> None:
    content = b"serial,carton\nVLT000001,CTN-001\nVLT000002,\nVLT000003,CTN-002\n"
    serial_list = _validated(cast, content, "production.csv", "production")
    assert serial_list.status == SerialList.Status.DONE
    assert [(s, c) for _, s, c, _, _ in _placed(serial_list)] == [
        ("VLT000001", "CTN-001"),
        ("VLT000003", "CTN-002"),  # not packed yet: nothing to place
    ]


def test_a_production_list_without_cartons_places_nothing(cast: Cast, rule: NumberingRule) -> None:
    serial_list = _validated(cast, b"serial\nVLT000001\nVLT000002\n", "p.csv", "production")
    assert serial_list.status == SerialList.Status.DONE
    assert not SerialPlacement.objects.exists()


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        (
            "carton",
            b"serial,carton,shipped\nVLT000001,C1,2026-11-20\nVLT000002,C1,20/11/2026\n",
            "bad-date.csv: line 3: shipment date “20/11/2026” is not a date (write it as "
            "YYYY-MM-DD)",
        ),
        (
            "carton",
            b"serial,carton,shipped\nVLT000001,C1,2026-02-30\n",
            "bad-date.csv: line 2: shipment date “2026-02-30” is not a real day",
        ),
        (
            "carton",
            b"serial,pallet\nVLT000001,P1\n",
            "bad-date.csv: line 1: a carton list needs a carton column (name it one of: box,",
        ),
        (
            "carton",
            b"serial,carton\nVLT000001,C1\nVLT000002,\n",
            "bad-date.csv: line 3: no carton for serial VLT000002",
        ),
        (
            "distribution",
            b"serial,shipped_on\nVLT000001,2026-11-20\n",
            "bad-date.csv: line 1: a distribution list needs a customer column",
        ),
        (
            "distribution",
            b"serial,customer\nVLT000001,ACME\n",
            "bad-date.csv: line 1: a distribution list needs a shipment date column",
        ),
        (
            "distribution",
            b"VLT000001,ACME,2026-11-20\n",
            "bad-date.csv: line 1: a distribution list needs a header row naming its columns",
        ),
    ],
)
def test_a_bad_placement_list_fails_naming_file_and_line(
    cast: Cast, rule: NumberingRule, kind: str, content: bytes, message: str
) -> None:
    serial_list = _validated(cast, content, "bad-date.csv", kind)
    assert serial_list.status == SerialList.Status.FAILED
    assert serial_list.error.startswith(message), serial_list.error
    # Nothing half-written: no placements, no exceptions, no report.
    assert not SerialPlacement.objects.filter(serial_list=serial_list).exists()
    assert not SerialException.objects.filter(serial_list=serial_list).exists()
    assert serial_list.report is None


def test_a_bad_date_in_xlsx_names_the_sheet_row(cast: Cast, rule: NumberingRule) -> None:
    content = _xlsx(
        [
            ["serial", "customer", "shipped_on"],
            ["VLT000001", "ACME", datetime.date(2026, 1, 31)],
            ["VLT000002", "ACME", 12.5],
        ]
    )
    serial_list = _validated(cast, content, "shipped.xlsx", "distribution")
    assert serial_list.status == SerialList.Status.FAILED
    assert serial_list.error == "shipped.xlsx: line 3: shipment date 12.5 is a number, not a date"


def test_the_copy_and_the_fallback_write_the_same_rows(
    cast: Cast, rule: NumberingRule, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = b'serial,carton,customer,shipped\nVLT000001,"C,1",x,2026-11-20\nVLT000002,C2,,\n'
    first = _validated(cast, content, "c.csv", "carton")
    monkeypatch.setattr(connection, "vendor", "other")  # take the bulk_create path
    second = _validated(cast, content, "c.csv", "carton")
    assert first.status == second.status == SerialList.Status.DONE, (first.error, second.error)
    assert (
        _placed(first)
        == _placed(second)
        == [
            (2, "VLT000001", "C,1", "", datetime.date(2026, 11, 20)),
            (3, "VLT000002", "C2", "", None),
        ]
    )


# ---------------------------------------------------------------- the reader on its own


def test_header_names_are_read_loosely(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("SN;x,Customer Ref.,Date-Shipped,Carton #\nVLT1;x,C9,2026-01-02,K1\n")
    # "SN;x" is not a serial header: the serial column must be named.
    with pytest.raises(engine.SerialFileError, match="line 1: a distribution list needs"):
        columns.read_list_columns(path, kind="distribution")
    path.write_text("sn,Customer Ref.,Date-Shipped,Carton #\nVLT1,C9,2026-01-02,K1\n")
    read = columns.read_list_columns(path, kind="distribution")
    assert (read.serials, read.customers, read.shipped, read.cartons) == (
        ["VLT1"],
        ["C9"],
        [datetime.date(2026, 1, 2)],
        None,
    )


def test_it_refuses_what_the_engine_refuses(tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(engine.SerialFileError, match="photo.csv: unsupported file: a PNG image"):
        columns.read_list_columns(path, kind="carton")
