"""The dispute dossier: the demo order's opens, and its hashes match what the portal stored."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from approvals.models import Payment
from evidence.models import EvidenceItem
from orders.models import PurchaseOrder
from portal.models import AuditEvent
from serials.models import SerialList
from tests.conftest import Cast, make_order


def _open(path: Path) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(path)
    assert archive.testzip() is None
    return archive, json.loads(archive.read("manifest.json"))


@pytest.fixture
def demo(db: None) -> PurchaseOrder:
    call_command("seed_demo", stdout=io.StringIO())
    return PurchaseOrder.objects.get(number="2026-0141")


def test_it_exports_the_demo_order_with_matching_hashes(
    demo: PurchaseOrder, tmp_path: Path
) -> None:
    output = tmp_path / "dossier.zip"
    call_command("dossier_export", "2026-0141", output=str(output), stdout=io.StringIO())
    archive, manifest = _open(output)
    names = set(archive.namelist())
    listed = {entry["path"]: entry for entry in manifest["files"]}

    # Every listed file is in the ZIP and its bytes hash to what the manifest says.
    for path, entry in listed.items():
        data = archive.read(path)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
        assert len(data) == entry["size"]
    assert names == set(listed) | {"manifest.json", "SHA256SUMS", "README.txt"}
    sums = dict(
        line.split("  ", 1)[::-1]
        for line in archive.read("SHA256SUMS").decode().split("\n")
        if line
    )
    manifest_and_readme = {
        name: hashlib.sha256(archive.read(name)).hexdigest()
        for name in ("manifest.json", "README.txt")
    }
    assert sums == {path: entry["sha256"] for path, entry in listed.items()} | manifest_and_readme

    # The stored files are the ones the portal recorded at upload, byte for byte.
    stored = {
        *{item.sha256 for item in EvidenceItem.objects.filter(batch__order=demo)},
        *{s.sha256 for s in SerialList.objects.filter(batch__order=demo)},
        *{p.document_sha256 for p in Payment.objects.filter(gate__order=demo)},
    }
    recorded = {e["sha256_recorded_at_upload"] for e in manifest["files"]} - {None}
    assert stored and recorded == stored
    assert all(e["matches_recorded"] for e in manifest["files"] if e["sha256_recorded_at_upload"])

    # It explains the decision: the approval record, the report, the statement, the timeline.
    pdf = archive.read("approval-record.pdf")
    assert pdf.startswith(b"%PDF-")
    assert any(n.endswith("report.json") for n in names)
    assert any(n.endswith("anomalies.csv") for n in names)
    assert any(n.endswith("inspection.json") for n in names)
    assert any(n.endswith("results.csv") for n in names)
    statements = [archive.read(n).decode() for n in names if n.startswith("statements/")]
    assert any("Statement version 1" in s and "printer jammed" in s for s in statements)
    timeline = archive.read("timeline.csv").decode()
    for action in (
        "approval.signed",
        "payment.recorded",
        "evidence.uploaded",
        "serial_list.validated",
    ):
        assert action in timeline
    assert "WARNING" not in archive.read("README.txt").decode()


def test_it_flags_a_stored_file_changed_after_upload(demo: PurchaseOrder, tmp_path: Path) -> None:
    item = EvidenceItem.objects.filter(batch__order=demo).first()
    with default_storage.open(item.file.name, "wb") as handle:
        handle.write(b"not the photo that was uploaded")
    output = tmp_path / "dossier.zip"
    err = io.StringIO()
    call_command(
        "dossier_export", str(demo.pk), output=str(output), stdout=io.StringIO(), stderr=err
    )
    archive, manifest = _open(output)
    [changed] = [e for e in manifest["files"] if e["matches_recorded"] is False]
    assert changed["sha256_recorded_at_upload"] == item.sha256
    assert changed["path"] in archive.read("README.txt").decode()
    assert changed["path"] in err.getvalue()


def test_it_never_overwrites_an_existing_file(demo: PurchaseOrder, tmp_path: Path) -> None:
    output = tmp_path / "dossier.zip"
    output.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists already"):
        call_command("dossier_export", "2026-0141", output=str(output))
    assert output.read_bytes() == b"keep me"
    assert not list(tmp_path.glob("*.partial"))


def test_it_names_unknown_and_ambiguous_orders(cast: Cast, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No order with PO number or id “PO-NOPE”"):
        call_command("dossier_export", "PO-NOPE", output=str(tmp_path / "a.zip"))
    make_order(cast.users["other_buyer"], cast.organisations["supplier_b"], "PO-OWN")
    with pytest.raises(CommandError, match="several buyers"):
        call_command("dossier_export", "PO-OWN", output=str(tmp_path / "b.zip"))
    call_command(
        "dossier_export",
        "PO-OWN",
        buyer="Buyer Co",
        output=str(tmp_path / "c.zip"),
        stdout=io.StringIO(),
    )
    _, manifest = _open(tmp_path / "c.zip")
    assert manifest["buyer"] == "Buyer Co"


def test_the_order_page_links_the_buyer_s_staff_to_the_dossier(cast_with_lists: Cast) -> None:
    """Built by a worker and downloaded from its own page: tests/dossier/test_dossier_export.py."""
    order = cast_with_lists.orders["own"]
    url = reverse("order-dossier", args=[order.pk])
    for role, shown in (("finance", True), ("buyer", True), ("supplier_a", False)):
        page = cast_with_lists.client(role).get(reverse("order-detail", args=[order.pk]))
        assert (url in page.content.decode()) == shown, role


def test_the_supplier_cannot_reach_it(cast_with_lists: Cast) -> None:
    order = cast_with_lists.orders["own"]
    client = cast_with_lists.client("supplier_a")
    assert client.get(reverse("order-dossier", args=[order.pk])).status_code == 404
    assert client.post(reverse("order-dossier-export", args=[order.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="order.dossier_").exists()


def test_making_a_pdf_leaves_pillow_strict_about_truncated_images() -> None:
    from PIL import ImageFile

    from portal.pdf import html_to_pdf

    assert html_to_pdf("<p>x</p>").startswith(b"%PDF-")
    # WeasyPrint's import turns this on for the whole process; uploads must stay strict.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
