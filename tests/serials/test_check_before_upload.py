"""Checking a serial list before uploading it (issue 14): the batch page's "Check without
uploading" and ``POST /api/batches/{id}/serial-lists/check/`` run the upload's look at the file
and the worker's checks, and answer the report at once; nothing is kept — no stored file, no
row, no audit event, no notification, no temporary file."""

from __future__ import annotations

import glob
import html
import io
import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import Batch
from portal.models import AuditEvent, Notification, NotificationRead
from serials import services
from serials.exception_models import ExceptionAnswer, SerialException
from serials.models import (
    AllocatedCodeList,
    AllocatedRange,
    NumberingRule,
    SerialCode,
    SerialList,
    SerialPlacement,
    SerialRun,
)
from tests.conftest import ORDER_KEYS, ROLES, VISIBLE, Cast
from tests.hostile.corpus import CASES, Case
from tests.serials.conftest import csv_file

# VLT000001–VLT000100 with 51–60 missing, VLT000050 three times (lines 51–53) and VLT000017
# twice (lines 18 and 54); the header is line 1.
WITH_FINDINGS = [*range(1, 51), 50, 50, 17, *range(61, 101)]
MAY_UPLOAD = {"buyer", "admin", "other_buyer", "supplier_a", "supplier_b"}
UPLOADER = {"own": "supplier_a", "b_order": "supplier_b", "foreign": "supplier_a"}

KEPT = (
    SerialList,
    SerialRun,
    SerialCode,
    SerialPlacement,
    SerialException,
    ExceptionAnswer,
    AllocatedCodeList,
    AllocatedRange,
    AuditEvent,
    Notification,
    NotificationRead,
)


def _kept() -> dict[str, object]:
    """Every row, stored file and temporary file a check could leave behind."""
    root = Path(settings.MEDIA_ROOT)
    counts: dict[str, object] = {model.__name__: model.objects.count() for model in KEPT}
    counts["stored files"] = sorted(str(p) for p in root.rglob("*") if p.is_file())
    counts["temporary folders"] = sorted(
        glob.glob(os.path.join(tempfile.gettempdir(), "serial-list-check-*"))
    )
    return counts


def _check_page(cast: Cast, role: str, key: str, upload: SimpleUploadedFile, **extra: str):
    return cast.client(role).post(
        reverse("serial-list-check", args=[cast.batches[key].pk]),
        {"file": upload, "kind": "production", **extra},
    )


def _check_api(cast: Cast, role: str, key: str, upload: SimpleUploadedFile, **extra: str):
    return cast.api(role).post(
        reverse("api-batch-serial-list-check", args=[cast.batches[key].pk]),
        {"file": upload, "kind": "production", **extra},
    )


def _text(response) -> str:  # noqa: ANN001 - a test client's response
    return html.unescape(response.content.decode())


@pytest.fixture(autouse=True)
def _own_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's temporary files in a folder of its own: the other test process runs checks
    at the same time, and its folders come and go in the shared one."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture
def declared(cast: Cast, rule: NumberingRule) -> Batch:
    """The own batch, its range declared by the supplier: VLT000001–VLT000100."""
    batch = cast.batches["own"]
    Batch.objects.filter(pk=batch.pk).update(
        declared_first_serial="VLT000001", declared_last_serial="VLT000100"
    )
    batch.refresh_from_db()
    return batch


def test_a_gap_a_duplicate_and_malformed_rows_are_reported_and_nothing_is_kept(
    cast: Cast, declared: Batch
) -> None:
    before = _kept()
    response = _check_page(
        cast, "supplier_a", "own", csv_file(WITH_FINDINGS, "week-47.csv", extra=["XX1", "VLT12"])
    )
    assert response.status_code == 200
    page = _text(response)
    assert "Nothing was uploaded." in page and "week-47.csv" in page
    assert "Not uploaded" in page and "Upload this file" in page
    # The gap, with its count; the duplicates with their lines; the malformed rows' lines.
    assert "VLT000051" in page and "VLT000060" in page
    assert "VLT000050" in page and "51, 52, 53" in page
    assert "VLT000017" in page and "18, 54" in page
    assert '<td>95</td><td class="text-nowrap"><code title="XX1">XX1</code></td>' in page
    assert '<td>96</td><td class="text-nowrap"><code title="VLT12">VLT12</code></td>' in page
    # Held against the declared range, with the same figures an upload would get.
    report = response.context["report"]
    assert report.expected_range == (1, 100)
    assert report.missing_count == 10 and report.duplicate_count == 2
    assert report.malformed_count == 2 and report.reused_count == 0
    # The template and the re-pick form to upload it for real.
    assert reverse("serial-list-template", args=[declared.pk]) in page
    assert f'action="{reverse("serial-list-upload", args=[declared.pk])}"' in page
    assert _kept() == before


def test_the_api_twin_answers_the_report_an_upload_gets_and_keeps_nothing(
    cast: Cast, declared: Batch
) -> None:
    before = _kept()
    response = _check_api(cast, "supplier_a", "own", csv_file(WITH_FINDINGS, "week-47.csv"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stored"] is False
    assert body["batch"] == declared.pk and body["kind"] == "production"
    assert body["original_name"] == "week-47.csv" and body["rule"] == "VLT######"
    report = body["report"]
    assert report["missing_ranges"] == [[51, 60]] and report["missing_count"] == 10
    assert [d["serial"] for d in report["duplicates"]] == ["VLT000017", "VLT000050"]
    assert report["expected_range"] == [1, 100]
    assert _kept() == before
    # The same file uploaded and validated by the worker's service: the very same report.
    serial_list = services.serial_list_upload(
        batch=declared, user=cast.users["supplier_a"], uploaded_file=csv_file(WITH_FINDINGS)
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.report == report
    detail = cast.api("supplier_a").get(reverse("api-serial-list-detail", args=[serial_list.pk]))
    assert set(detail.json()["report"]) == set(report)


def test_reuse_against_other_batches_is_reported_without_naming_another_supplier(
    cast: Cast, rule: NumberingRule
) -> None:
    """Supplier B's list for the buyer's other order holds VLT000001–VLT000020: supplier A's
    check of a list that overlaps it says so, and never names B's order."""
    other = services.serial_list_upload(
        batch=cast.batches["b_order"],
        user=cast.users["supplier_b"],
        uploaded_file=csv_file(list(range(1, 21))),
    )
    services.serial_list_validate(serial_list_id=other.pk)
    before = _kept()
    response = _check_page(cast, "supplier_a", "own", csv_file(list(range(15, 31))))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.reused_count == 6
    assert [r.serial for r in report.reused] == [f"VLT{c:06d}" for c in range(15, 21)]
    page = _text(response)
    assert "Serials already used by other batches" in page and "(another supplier)" in page
    assert cast.orders["b_order"].number not in page
    assert _kept() == before


def test_a_clean_file_says_so(cast: Cast, declared: Batch) -> None:
    response = _check_page(cast, "supplier_a", "own", csv_file(list(range(1, 101))))
    assert response.status_code == 200
    assert "No findings: an upload of this file would raise no exception." in _text(response)


def test_a_workbook_is_read_as_the_worker_reads_it(cast: Cast, declared: Batch) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["serial"])
    for counter in [*range(1, 40), 39, *range(41, 101)]:
        workbook.active.append([f"VLT{counter:06d}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = _kept()
    response = _check_api(
        cast, "supplier_a", "own", SimpleUploadedFile("list.xlsx", buffer.getvalue())
    )
    assert response.status_code == 200, response.content
    report = response.json()["report"]
    assert report["missing_ranges"] == [[40, 40]]
    assert report["duplicates"] == [{"serial": "VLT000039", "count": 2, "lines": [40, 41]}]
    assert _kept() == before


def test_a_large_upload_spooled_to_disk_is_checked_and_its_copy_removed(
    cast: Cast, declared: Batch, settings: object
) -> None:
    """Above FILE_UPLOAD_MAX_MEMORY_SIZE Django spools the upload to a temporary file: the check
    reads it there (linked, not copied into storage)."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # type: ignore[attr-defined]
    before = _kept()
    response = _check_api(cast, "supplier_a", "own", csv_file(WITH_FINDINGS))
    assert response.status_code == 200, response.content
    assert response.json()["report"]["missing_count"] == 10
    assert _kept() == before


@pytest.mark.parametrize("role", ROLES)
def test_whoever_may_upload_may_check_and_others_are_refused_as_the_upload_refuses_them(
    cast_with_lists: Cast, role: str
) -> None:
    cast = cast_with_lists
    before = _kept()
    for key in ORDER_KEYS:
        page = _check_page(cast, role, key, csv_file([1, 2, 2]))
        api = _check_api(cast, role, key, csv_file([1, 2, 2]))
        upload = cast.api(role).post(
            reverse("api-batch-serial-lists", args=[cast.batches[key].pk]),
            {"file": SimpleUploadedFile("s.csv", b""), "kind": "production"},
        )
        if key not in VISIBLE[role]:
            expected = 404  # a foreign batch, or no organisation at all
        elif role in MAY_UPLOAD:
            expected = 200
        else:
            expected = 403
        assert (page.status_code, api.status_code) == (expected, expected), (role, key)
        # Refused where the upload is refused (an empty file is a 400 to those who may upload).
        assert upload.status_code == (400 if expected == 200 else expected), (role, key)
        if expected != 200:
            assert cast.orders[key].number not in page.content.decode() + api.content.decode()
        else:
            assert api.json()["report"]["duplicate_count"] == 1
    assert _kept() == before


def test_the_batch_page_offers_the_check_to_those_who_may_upload(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    check_url = reverse("serial-list-check", args=[cast.batches["own"].pk])
    for role in ("supplier_a", "buyer", "finance", "inspector"):
        page = cast.client(role).get(reverse("batch-detail", args=[cast.batches["own"].pk]))
        assert page.status_code == 200
        assert (f'formaction="{check_url}"' in page.content.decode()) == (role in MAY_UPLOAD)


def test_anonymous_visitors_are_sent_to_sign_in(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    page = _check_page(cast_with_lists, None, "own", csv_file([1]))  # type: ignore[arg-type]
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))
    api = _check_api(cast, None, "own", csv_file([1]))  # type: ignore[arg-type]
    assert api.status_code == 401


def test_a_get_is_not_a_check(cast_with_lists: Cast) -> None:
    url = reverse("serial-list-check", args=[cast_with_lists.batches["own"].pk])
    assert cast_with_lists.client("supplier_a").get(url).status_code == 405


# --- files that are not lists --------------------------------------------------------------

CORPUS = {case.name: case for case in CASES}
HTML_PAGE = CORPUS["page.html"].make()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.csv", b"", "empty.csv is empty."),
        ("serials.csv", HTML_PAGE, "serials.csv is not a serial list: its bytes are HTML"),
        (
            "corner-XFD1048576.xlsx",
            CORPUS["corner-XFD1048576.xlsx"].make(),
            "places a cell at XFD1048576",
        ),
        ("legacy.xls", CORPUS["legacy.xls"].make(), "legacy.xls is not a serial list"),
        ("latin1.csv", CORPUS["latin1.csv"].make(), "latin1.csv: line 2: unsupported file"),
    ],
    ids=["empty", "html-renamed-csv", "xlsx-bomb", "legacy-xls", "not-utf8"],
)
def test_a_file_that_cannot_be_checked_is_a_400_naming_it_and_the_form_again(
    cast: Cast, rule: NumberingRule, name: str, content: bytes, says: str
) -> None:
    before = _kept()
    page = _check_page(cast, "supplier_a", "own", SimpleUploadedFile(name, content))
    assert page.status_code == 400
    text = _text(page)
    assert "This file could not be checked." in text and says in text, text[-3000:]
    assert "Nothing was uploaded." in text
    assert "Check without uploading" in text  # the form again, to pick another file
    api = _check_api(cast, "supplier_a", "own", SimpleUploadedFile(name, content))
    assert api.status_code == 400
    assert says in " ".join(api.json()["file"])
    assert _kept() == before


def test_the_html_page_is_refused_by_the_upload_too(cast: Cast, rule: NumberingRule) -> None:
    """The check and the upload take one look at the bytes: what one refuses, so does the other."""
    upload = cast.api("supplier_a").post(
        reverse("api-batch-serial-lists", args=[cast.batches["own"].pk]),
        {"file": SimpleUploadedFile("serials.csv", HTML_PAGE), "kind": "production"},
    )
    assert upload.status_code == 400
    assert "serials.csv is not a serial list: its bytes are HTML" in str(upload.json())
    assert not SerialList.objects.exists()


def test_a_file_over_the_cap_is_refused_before_it_is_read(
    cast: Cast, rule: NumberingRule, settings: object
) -> None:
    settings.SERIAL_LIST_MAX_BYTES = 1_500_000  # type: ignore[attr-defined]
    big = SimpleUploadedFile("big.csv", b"serial\n" + b"VLT000001\n" * 200_000)
    before = _kept()
    page = _check_page(cast, "supplier_a", "own", big)
    assert page.status_code == 400
    assert "big.csv is 2.0 MB; the limit is 1.5 MB." in _text(page)
    big.seek(0)
    api = _check_api(cast, "supplier_a", "own", big)
    assert api.status_code == 400 and "big.csv is 2.0 MB" in str(api.json())
    assert _kept() == before


def test_no_file_or_no_rule_is_a_400_in_words(cast: Cast) -> None:
    url = reverse("serial-list-check", args=[cast.batches["own"].pk])
    page = cast.client("supplier_a").post(url, {"kind": "production"})
    assert page.status_code == 400 and "Choose the file to check." in _text(page)
    # No numbering rule for the product yet: the upload's refusal, in the page.
    page = _check_page(cast, "supplier_a", "own", csv_file([1, 2]))
    assert page.status_code == 400
    assert "There is no numbering rule for" in _text(page)
    api = _check_api(cast, "supplier_a", "own", csv_file([1, 2]))
    assert api.status_code == 400 and "There is no numbering rule for" in str(api.json())


LIST_CASES = [case for case in CASES if "serial_list" in case.targets]


@pytest.mark.parametrize("case", LIST_CASES, ids=[case.name for case in LIST_CASES])
def test_every_hostile_list_is_refused_by_the_check_with_its_name(
    cast: Cast, rule: NumberingRule, case: Case
) -> None:
    """What the upload refuses or the worker fails, the check answers with a 400 naming the file
    (tests/hostile/test_hostile_corpus.py), in the request and leaving nothing behind."""
    before = _kept()
    response = _check_api(cast, "supplier_a", "own", SimpleUploadedFile(case.name, case.make()))
    assert response.status_code == 400, (response.status_code, response.content[:300])
    message = " ".join(response.json()["file"])
    assert case.name in message and case.says.lower() in message.lower(), message
    assert "Traceback" not in message
    assert _kept() == before


def test_the_schema_documents_the_check_and_its_refusals(cast: Cast) -> None:
    schema = cast.client(None).get(reverse("api-schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/batches/{id}/serial-lists/check/"]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404"}
    assert "multipart/form-data" in operation["requestBody"]["content"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][ok.rsplit("/", 1)[1]]["properties"]
    assert {"batch", "kind", "original_name", "size", "rule", "stored", "report"} <= set(fields)
    for status in ("400", "403", "404"):
        assert operation["responses"][status]["content"]["application/json"]["schema"]
