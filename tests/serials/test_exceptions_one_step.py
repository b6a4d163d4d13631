"""Exceptions that take one step each (issue 14): reason codes that cover real causes, none
preselected; many rows answered (or decided) in one submission, each with its own reason and
note, written whole or not at all; a photo or PDF attached to an answer and served only to
those who see its batch; the table filtered, sorted and exported; each exception's lines."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import AuditEvent
from serials import services
from serials.exception_models import ANSWER_REASONS, Reason
from serials.models import (
    ExceptionAnswer,
    ExceptionAttachment,
    ExceptionDecision,
    NumberingRule,
    SerialException,
    SerialList,
)
from tests.conftest import ROLES, VISIBLE, Cast
from tests.evidence.conftest import jpeg, pdf, png_bomb

NINE = [
    "double_scan",
    "keying_error",
    "label_reprinted",
    "rework_relabel",
    "test_scrap",
    "sample_retained",
    "destroyed",
    "packing_change",
    "other",
]
# Gaps 11–12, 21 and 31–33; VLT000005 on two rows; one malformed row: five exceptions.
COUNTERS = [*range(1, 11), 5, *range(13, 21), *range(22, 31), *range(34, 41)]


def _listed(cast: Cast, key: str = "own", uploader: str = "supplier_a") -> SerialList:
    lines = ["serial,carton", *(f"VLT{c:06d},C{c // 10}" for c in COUNTERS), "VLT00OO07,C9"]
    serial_list = services.serial_list_upload(
        batch=cast.batches[key],
        user=cast.users[uploader],
        uploaded_file=SimpleUploadedFile(f"{key}.csv", ("\n".join(lines) + "\n").encode()),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    return serial_list


@pytest.fixture
def listed(cast: Cast, rule: NumberingRule) -> SerialList:
    return _listed(cast)


def _ids(serial_list: SerialList) -> list[int]:
    """In the table's order: the gaps 11–12, 21 and 31–33, the duplicate, the malformed row."""
    return list(serial_list.exceptions.order_by("id").values_list("id", flat=True))


def _url(cast: Cast, key: str = "own") -> str:
    return reverse("batch-exceptions", args=[cast.batches[key].pk])


def test_the_nine_reasons_are_offered_none_preselected(cast: Cast, listed: SerialList) -> None:
    assert [value for value, _label in ANSWER_REASONS] == NINE
    page = cast.client("supplier_a").get(_url(cast)).content.decode()
    first = page.index(f'name="choice-{_ids(listed)[0]}"')
    select = page[first : page.index("</select>", first)]
    assert re.search(r'<option value="">Choose a reason…</option>', select)
    assert " selected" not in select
    assert re.findall(r'<option value="(\w+)"', select) == NINE
    # Each reason explained where it is chosen; the retired one is a filter, never an answer.
    assert "One unit was scanned twice" in page
    panel = page[page.index('id="bulk_reason"') :]
    panel = panel[: panel.index("</select>")]
    assert re.findall(r'<option value="(\w+)"', panel) == NINE
    assert not re.search(r'value="\w+" selected', panel)


def test_a_reason_is_required(cast: Cast, listed: SerialList) -> None:
    first = _ids(listed)[0]
    page = cast.client("supplier_a").post(
        _url(cast), {"answer": "1", "exception": [first], "reason": "", f"note-{first}": "x"}
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "Nothing was sent" in text and "Row 1" in text and "choose a reason." in text
    assert not ExceptionAnswer.objects.exists()
    assert SerialException.objects.get(pk=first).status == "open"


@pytest.mark.parametrize("reason", NINE)
def test_each_of_the_nine_reasons_is_accepted(cast: Cast, listed: SerialList, reason: str) -> None:
    first = _ids(listed)[0]
    response = cast.client("supplier_a").post(
        _url(cast), {"answer": "1", f"choice-{first}": reason, f"note-{first}": "What happened."}
    )
    assert response.status_code == 302
    answer = ExceptionAnswer.objects.get(exception_id=first)
    assert answer.reason == reason and answer.get_reason_display() == dict(Reason.choices)[reason]


def test_other_needs_a_note_the_specific_reasons_do_not(cast: Cast, listed: SerialList) -> None:
    first, second = _ids(listed)[:2]
    client = cast.client("supplier_a")
    refused = client.post(_url(cast), {"answer": "1", f"choice-{first}": "other"})
    assert "“Other” needs a note" in refused.content.decode()
    assert not ExceptionAnswer.objects.exists()
    client.post(_url(cast), {"answer": "1", f"choice-{second}": "double_scan"})
    assert ExceptionAnswer.objects.get().note == ""


def test_a_bulk_answer_with_a_note_per_row_is_one_post_and_one_transaction(
    cast: Cast, listed: SerialList
) -> None:
    gap, single, third_gap, duplicate, _malformed = _ids(listed)
    form = {
        "answer": "1",
        # Three rows, three reasons, three notes; the third row is only ticked and takes the
        # panel's reason; none needs its box ticked to be answered.
        f"choice-{gap}": "test_scrap",
        f"note-{gap}": "Scrapped at burn-in.",
        f"choice-{single}": "label_reprinted",
        f"note-{single}": "Label smeared, reprinted as VLT000041.",
        "exception": [duplicate],
        "reason": "double_scan",
        "note": "Scanned twice at packing.",
    }
    client = cast.client("supplier_a")
    response = client.post(_url(cast), form)
    assert response.status_code == 302
    answers = {a.exception_id: a for a in ExceptionAnswer.objects.all()}
    assert {pk: (a.reason, a.note) for pk, a in answers.items()} == {
        gap: ("test_scrap", "Scrapped at burn-in."),
        single: ("label_reprinted", "Label smeared, reprinted as VLT000041."),
        duplicate: ("double_scan", "Scanned twice at packing."),
    }
    assert SerialException.objects.get(pk=third_gap).status == "open"
    assert set(
        SerialException.objects.filter(pk__in=[gap, single, duplicate]).values_list(
            "status", flat=True
        )
    ) == {"answered"}
    assert AuditEvent.objects.filter(action="serial_exception.answered").count() == 3
    follow = client.get(response["Location"]).content.decode()
    assert "3 exceptions answered." in follow


def test_an_invalid_row_writes_nothing_and_the_page_names_it(
    cast: Cast, listed: SerialList
) -> None:
    gap, single, third_gap, *_rest = _ids(listed)
    events = AuditEvent.objects.count()
    form = {
        "answer": "1",
        f"choice-{gap}": "test_scrap",
        f"note-{gap}": "Scrapped.",
        f"choice-{single}": "not-a-reason",
        f"note-{third_gap}": "Typed a note, forgot the reason.",
    }
    page = cast.client("supplier_a").post(_url(cast), form).content.decode()
    assert "Nothing was sent" in page
    assert "Row 2" in page and "“not-a-reason” is not a reason code." in page
    assert "Row 3" in page and "choose a reason." in page
    assert "Row 1" not in page
    # What was typed stays on the page to be put right.
    assert "Typed a note, forgot the reason." in page and 'value="test_scrap" selected' in page
    assert not ExceptionAnswer.objects.exists()
    assert AuditEvent.objects.count() == events
    assert set(SerialException.objects.values_list("status", flat=True)) == {"open"}


def test_a_row_the_service_refuses_rolls_back_the_rows_before_it(
    cast: Cast, listed: SerialList
) -> None:
    """An accepted exception cannot be answered again: found by the service after the rows
    before it were checked, and nothing is written."""
    gap, single, *_rest = _ids(listed)
    supplier, buyer = cast.users["supplier_a"], cast.users["buyer"]
    services.exceptions_answer(rows=[services.AnswerRow(single, "destroyed")], user=supplier)
    services.exceptions_decide(
        rows=[services.DecisionRow(single, "accepted")], user=buyer, promises=["identity"]
    )
    page = cast.client("supplier_a").post(
        _url(cast),
        {"answer": "1", f"choice-{gap}": "test_scrap", f"choice-{single}": "destroyed"},
    )
    # An accepted row offers no answer; posted anyway, the service refuses it by its row.
    assert "already accepted by the buyer." in page.content.decode()
    assert ExceptionAnswer.objects.filter(exception_id=gap).count() == 0


def test_an_attachment_is_stored_once_linked_to_each_answer_and_shown_to_both_sides(
    cast: Cast, listed: SerialList
) -> None:
    gap, single, *_rest = _ids(listed)
    photo = jpeg("scrap-tag.jpg")
    cast.client("supplier_a").post(
        _url(cast),
        {
            "answer": "1",
            "exception": [gap, single],
            "reason": "test_scrap",
            "attachment": photo,
        },
    )
    attachments = list(ExceptionAttachment.objects.order_by("id"))
    assert [a.answer.exception_id for a in attachments] == [gap, single]
    assert {a.file.name for a in attachments} == {attachments[0].file.name}
    assert attachments[0].file.name.startswith("exception-attachments/")
    assert attachments[0].content_type == "image/jpeg"
    event = AuditEvent.objects.filter(action="serial_exception.answered").first()
    assert event is not None and event.payload["attachment"]["sha256"] == attachments[0].sha256
    link = reverse("exception-attachment", args=[attachments[0].pk])
    for role in ("supplier_a", "buyer"):
        assert link in cast.client(role).get(_url(cast)).content.decode()
    download = cast.client("buyer").get(link)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="scrap-tag.jpg"')
    assert download["X-Content-Type-Options"] == "nosniff"
    photo.seek(0)
    assert b"".join(download.streaming_content) == photo.read()


def test_an_attachment_answers_404_to_everyone_who_cannot_see_its_batch(
    cast: Cast, rule: NumberingRule
) -> None:
    """Per role, own and foreign (tests/test_access.py leaves this URL to this test)."""
    NumberingRule.objects.create(
        buyer=cast.organisations["other_buyer"], product="05012345678900", prefix="VLT", width=6
    )
    links = {}
    for key in ("own", "foreign"):
        exception = _listed(cast, key).exceptions.first()
        assert exception is not None
        services.exceptions_answer(
            rows=[services.AnswerRow(exception.pk, "destroyed")],
            user=cast.users["supplier_a"],
            attachment=pdf(f"{key}.pdf"),
        )
        attachment = ExceptionAttachment.objects.get(answer__exception=exception)
        links[key] = reverse("exception-attachment", args=[attachment.pk])
    wrong = []
    for role in ROLES:
        for key, link in links.items():
            expected = 200 if key in VISIBLE[role] else 404
            status = cast.client(role).get(link).status_code
            if status != expected:
                wrong.append((role, key, status, expected))
    assert wrong == []
    assert cast.client(None).get(links["own"]).status_code == 302


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (png_bomb, "too large to open safely"),
        (
            lambda: SimpleUploadedFile(
                "tag.jpg", jpeg().read() + b"PK\x03\x04" + b"\0" * 64, "image/jpeg"
            ),
            "a ZIP archive after the end of the image",
        ),
        (
            lambda: SimpleUploadedFile("tag.jpg", b"<html><script>x</script></html>", "image/jpeg"),
            "are not accepted as an attachment to an answer",
        ),
        (
            lambda: SimpleUploadedFile("notes.csv", b"serial\nVLT000001\n", "text/csv"),
            "are not accepted as an attachment to an answer",
        ),
    ],
    ids=["decompression-bomb", "zip-after-jpeg", "html-named-jpg", "csv"],
)
def test_a_hostile_attachment_is_refused_with_a_message_and_nothing_written(
    cast: Cast, listed: SerialList, upload: object, message: str
) -> None:
    first = _ids(listed)[0]
    page = cast.client("supplier_a").post(
        _url(cast), {"answer": "1", f"choice-{first}": "test_scrap", "attachment": upload()}
    )
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not ExceptionAnswer.objects.exists() and not ExceptionAttachment.objects.exists()


def test_the_buyer_decides_many_at_once_with_a_note_per_row(cast: Cast, listed: SerialList) -> None:
    gap, single, third_gap, _duplicate, malformed = _ids(listed)
    services.exceptions_answer(
        rows=[services.AnswerRow(pk, "test_scrap") for pk in (gap, single, third_gap)],
        user=cast.users["supplier_a"],
    )
    page = cast.client("buyer").get(_url(cast)).content.decode()
    assert f'name="choice-{gap}"' in page and f'name="choice-{malformed}"' not in page
    response = cast.client("buyer").post(
        _url(cast),
        {
            "decide": "1",
            f"choice-{gap}": "rejected",
            f"note-{gap}": "Send the scrap log.",
            "exception": [single, third_gap],
            "decision": "accepted",
            "promises": ["identity"],
        },
    )
    assert response.status_code == 302
    decisions = {d.exception_id: (d.decision, d.note) for d in ExceptionDecision.objects.all()}
    assert decisions == {
        gap: ("rejected", "Send the scrap log."),
        single: ("accepted", ""),
        third_gap: ("accepted", ""),
    }
    assert SerialException.objects.get(pk=gap).status == "rejected"


def test_a_bulk_decision_with_an_undecidable_row_writes_nothing(
    cast: Cast, listed: SerialList
) -> None:
    gap, single, *_rest = _ids(listed)
    services.exceptions_answer(
        rows=[services.AnswerRow(gap, "test_scrap")], user=cast.users["supplier_a"]
    )
    page = cast.client("buyer").post(
        _url(cast),
        {"decide": "1", "exception": [gap, single], "decision": "accepted", "promises": "identity"},
    )
    assert "no new answer from the supplier to decide on." in page.content.decode()
    assert not ExceptionDecision.objects.exists()
    assert SerialException.objects.get(pk=gap).status == "answered"


def test_only_the_supplier_answers_and_only_managers_decide(cast: Cast, listed: SerialList) -> None:
    first = _ids(listed)[0]
    for role in ("finance", "service", "inspector"):
        page = cast.client(role).post(_url(cast), {"answer": "1", f"choice-{first}": "destroyed"})
        assert page.status_code == 200
        assert f'name="choice-{first}"' not in page.content.decode()
    assert not ExceptionAnswer.objects.exists()


def test_the_table_filters_sorts_and_exports_the_same_rows_for_both_sides(
    cast: Cast, listed: SerialList
) -> None:
    gap, _single, _third_gap, duplicate, _malformed = _ids(listed)
    services.exceptions_answer(
        rows=[
            services.AnswerRow(gap, "test_scrap", '=HYPERLINK("http://x")'),
            services.AnswerRow(duplicate, "double_scan", "Scanned twice."),
        ],
        user=cast.users["supplier_a"],
    )
    for role in ("supplier_a", "buyer"):
        client = cast.client(role)
        page = client.get(_url(cast), {"reason": "double_scan"}).content.decode()
        assert "Scanned twice." in page and "1 missing: VLT000021" not in page
        sorted_page = client.get(_url(cast), {"sort": "-count"}).content.decode()
        assert sorted_page.index("3 missing") < sorted_page.index("1 missing: VLT000021")
        export = client.get(reverse("batch-exceptions-csv", args=[cast.batches["own"].pk]))
        assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.content.decode())))
        assert len(rows) == 5
        by_id = {int(row["id"]): row for row in rows}
        assert by_id[duplicate]["reason"] == "double_scan"
        assert by_id[duplicate]["reason_label"] == "Double scan"
        assert by_id[gap]["note"] == '\'=HYPERLINK("http://x")'  # neutralised
        filtered = client.get(
            reverse("batch-exceptions-csv", args=[cast.batches["own"].pk]), {"kind": "missing"}
        )
        assert {row["kind"] for row in csv.DictReader(io.StringIO(filtered.content.decode()))} == {
            "missing"
        }


def test_each_exception_links_to_its_lines_in_the_list(cast: Cast, listed: SerialList) -> None:
    client = cast.client("supplier_a")
    page = client.get(_url(cast)).content.decode()
    duplicate = listed.exceptions.get(kind="duplicate")
    gap = listed.exceptions.get(kind="missing", lo=11)
    for exception in (duplicate, gap):
        link = f"{reverse('serial-list-detail', args=[listed.pk])}?exception={exception.pk}#focus"
        assert link in page
    lines = client.get(
        reverse("serial-list-detail", args=[listed.pk]), {"exception": duplicate.pk}
    ).content.decode()
    assert "VLT000005 is on 2 rows" in lines
    assert 'class="table-warning focus-row"' in lines  # its row in the report's duplicates
    # The uploaded file's lines around both of its rows (header = line 1).
    assert "Lines of own.csv around it" in lines
    for line in (6, 12):
        assert re.search(rf'<tr class="table-warning"><td>{line}</td><td><code>VLT000005', lines)
    around_gap = client.get(
        reverse("serial-list-detail", args=[listed.pk]), {"exception": gap.pk}
    ).content.decode()
    # Either side of the gap, and where it would have been.
    assert "<code>VLT000010</code>" in around_gap and "<code>VLT000013</code>" in around_gap
    assert "Here: 2 missing: VLT000011 – VLT000012" in around_gap
    # Another list's exception id is no focus, and never shows its summary.
    other = client.get(reverse("serial-list-detail", args=[listed.pk]), {"exception": 99999})
    assert other.status_code == 200 and 'id="focus"' not in other.content.decode()


def test_the_same_answer_sent_twice_stands_once(cast: Cast, listed: SerialList) -> None:
    gap = _ids(listed)[0]
    client = cast.client("supplier_a")
    form = {"answer": "1", f"choice-{gap}": "test_scrap", f"note-{gap}": "Scrapped at burn-in."}
    assert client.post(_url(cast), form).status_code == 302
    assert client.post(_url(cast), form).status_code == 302  # a double click
    assert ExceptionAnswer.objects.filter(exception_id=gap).count() == 1
    assert AuditEvent.objects.filter(action="serial_exception.answered").count() == 1
    # A different answer is a new one.
    form[f"note-{gap}"] = "Scrapped at burn-in; scrap log LOG-77."
    assert client.post(_url(cast), form).status_code == 302
    assert ExceptionAnswer.objects.filter(exception_id=gap).count() == 2


def test_a_decision_never_lands_on_an_answer_the_buyer_did_not_see(
    cast: Cast, listed: SerialList
) -> None:
    gap = _ids(listed)[0]
    services.exceptions_answer(
        rows=[services.AnswerRow(gap, "test_scrap", "Scrapped.")], user=cast.users["supplier_a"]
    )
    buyer = cast.client("buyer")
    page = buyer.get(_url(cast)).content.decode()
    shown = ExceptionAnswer.objects.get(exception_id=gap).pk
    assert f'name="seen-{gap}" value="{shown}"' in page
    # The supplier answers again while the buyer reads the first answer.
    services.exceptions_answer(
        rows=[services.AnswerRow(gap, "other", "Sold locally after all.")],
        user=cast.users["supplier_a"],
    )
    response = buyer.post(
        _url(cast),
        {
            "decide": "1",
            f"choice-{gap}": "accepted",
            f"seen-{gap}": str(shown),
            "promises": "identity",
        },
    )
    assert response.status_code == 200
    assert "answered again" in response.content.decode()
    assert not ExceptionDecision.objects.exists()
