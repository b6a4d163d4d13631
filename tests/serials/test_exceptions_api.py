"""The exceptions API does what the exceptions page does (issue 14): a reason and a note per row
in one bulk answer, a photo or PDF attached to the answers through the same hostile-file gate,
the same rules (a note for "other", the same answer twice stands once, a decision refused with
409 when the supplier answered again since the answer it names), and the same scoping: a
foreign id is a 404, the buyer does not answer and the supplier does not decide (403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import AuditEvent
from serials import services
from serials.models import (
    ExceptionAnswer,
    ExceptionAttachment,
    ExceptionDecision,
    NumberingRule,
    SerialException,
    SerialList,
)
from tests.conftest import MANAGERS, ROLES, SUPPLIERS, VISIBLE, Cast
from tests.evidence.conftest import jpeg, pdf, png_bomb

ANSWERS = reverse("api-exception-answers")
DECISIONS = reverse("api-exception-decisions")
# What a review tests (orders.promises): every decision names it.
TESTS = ["identity"]
# Gaps 11–12, 21 and 31–33 and VLT000005 on two rows: four exceptions.
COUNTERS = [*range(1, 11), 5, *range(13, 21), *range(22, 31), *range(34, 41)]


def _listed(cast: Cast, key: str = "own", uploader: str = "supplier_a") -> SerialList:
    lines = ["serial", *(f"VLT{c:06d}" for c in COUNTERS)]
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
    return list(serial_list.exceptions.order_by("id").values_list("id", flat=True))


def _multipart_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows as a multipart form spells them: rows[0]id, rows[0]reason, rows[0]note, …"""
    return {f"rows[{n}]{key}": value for n, row in enumerate(rows) for key, value in row.items()}


# ---------------------------------------------------------------- per-row answers


def test_a_bulk_answer_takes_a_reason_and_a_note_per_row(cast: Cast, listed: SerialList) -> None:
    gap, single, third, duplicate = _ids(listed)
    rows = [
        {"id": gap, "reason": "test_scrap", "note": "Scrapped at burn-in."},
        {"id": single, "reason": "label_reprinted", "note": "Smeared; reprinted as VLT000041."},
        {"id": duplicate, "reason": "double_scan"},  # a specific reason needs no note
    ]
    response = cast.api("supplier_a").post(ANSWERS, {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    stored = {a.exception_id: (a.reason, a.note) for a in ExceptionAnswer.objects.all()}
    assert stored == {
        gap: ("test_scrap", "Scrapped at burn-in."),
        single: ("label_reprinted", "Smeared; reprinted as VLT000041."),
        duplicate: ("double_scan", ""),
    }
    assert SerialException.objects.get(pk=third).status == "open"
    assert AuditEvent.objects.filter(action="serial_exception.answered").count() == 3
    body = {row["id"]: row for row in response.json()}
    assert set(body) == {gap, single, duplicate}
    answer = body[single]["answers"][-1]
    assert (answer["reason"], answer["note"], answer["attachments"]) == (
        "label_reprinted",
        "Smeared; reprinted as VLT000041.",
        [],
    )
    assert answer["id"] == ExceptionAnswer.objects.get(exception_id=single).pk


def test_per_row_notes_travel_in_multipart_too(cast: Cast, listed: SerialList) -> None:
    gap, single, *_rest = _ids(listed)
    form = _multipart_rows(
        [
            {"id": gap, "reason": "other", "note": "Sold as samples to the trade fair."},
            {"id": single, "reason": "destroyed", "note": "Jammed in the printer."},
        ]
    )
    response = cast.api("supplier_a").post(ANSWERS, form, format="multipart")
    assert response.status_code == 200, response.content
    assert dict(ExceptionAnswer.objects.values_list("exception_id", "note")) == {
        gap: "Sold as samples to the trade fair.",
        single: "Jammed in the printer.",
    }


def test_other_needs_a_note_and_a_refused_row_writes_nothing(
    cast: Cast, listed: SerialList
) -> None:
    gap, single, *_rest = _ids(listed)
    events = AuditEvent.objects.count()
    rows = [
        {"id": gap, "reason": "test_scrap", "note": "Scrapped."},
        {"id": single, "reason": "other", "note": "  "},
    ]
    response = cast.api("supplier_a").post(ANSWERS, {"rows": rows}, format="json")
    assert response.status_code == 400
    assert response.json() == {str(single): ["“Other” needs a note saying what happened."]}
    assert not ExceptionAnswer.objects.exists() and AuditEvent.objects.count() == events
    short = cast.api("supplier_a").post(ANSWERS, {"ids": [gap], "reason": "other"}, format="json")
    assert short.status_code == 400 and "needs a note" in short.content.decode()
    assert not ExceptionAnswer.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"ids": [1], "rows": [{"id": 1, "reason": "destroyed"}]}, "non_field_errors"),
        ({"ids": [1]}, "reason"),
        ({"rows": [{"id": 1, "reason": "destroyed"}], "reason": "destroyed"}, "reason"),
        ({"rows": [{"id": 1, "reason": "destroyed"}], "note": "for all"}, "note"),
        ({"rows": []}, "rows"),
        ({"rows": [{"id": 1, "reason": "bogus"}]}, "rows"),
        ({"rows": [{"id": "x", "reason": "destroyed"}]}, "rows"),
        ({"rows": [{"id": 1, "reason": "other", "note": "x" * 4001}]}, "rows"),
    ],
)
def test_a_malformed_answer_is_a_400_naming_the_field(
    cast: Cast, listed: SerialList, body: dict[str, Any], field: str
) -> None:
    response = cast.api("supplier_a").post(ANSWERS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ExceptionAnswer.objects.exists()


def test_the_same_answer_sent_twice_stands_once(cast: Cast, listed: SerialList) -> None:
    gap = _ids(listed)[0]
    api = cast.api("supplier_a")
    rows = [{"id": gap, "reason": "test_scrap", "note": "Scrapped at burn-in."}]
    first = api.post(ANSWERS, {"rows": rows}, format="json")
    again = api.post(ANSWERS, {"rows": rows}, format="json")  # a retried request
    assert (first.status_code, again.status_code) == (200, 200)
    assert ExceptionAnswer.objects.filter(exception_id=gap).count() == 1
    assert AuditEvent.objects.filter(action="serial_exception.answered").count() == 1
    assert again.json()[0]["answers"] == first.json()[0]["answers"]
    rows[0]["note"] = "Scrapped at burn-in; scrap log LOG-77."
    assert api.post(ANSWERS, {"rows": rows}, format="json").status_code == 200
    assert ExceptionAnswer.objects.filter(exception_id=gap).count() == 2


# ---------------------------------------------------------------- attachments


def test_an_attachment_is_stored_with_each_answer_and_listed(
    cast: Cast, listed: SerialList
) -> None:
    gap, single, *_rest = _ids(listed)
    photo = jpeg("scrap-tag.jpg")
    form = _multipart_rows(
        [
            {"id": gap, "reason": "test_scrap", "note": "Scrap tag attached."},
            {"id": single, "reason": "destroyed", "note": "Same tag."},
        ]
    )
    response = cast.api("supplier_a").post(
        ANSWERS, {**form, "attachment": photo}, format="multipart"
    )
    assert response.status_code == 200, response.content
    attachments = list(ExceptionAttachment.objects.order_by("id"))
    assert [a.answer.exception_id for a in attachments] == [gap, single]
    assert {a.file.name for a in attachments} == {attachments[0].file.name}  # stored once
    assert attachments[0].content_type == "image/jpeg"
    event = AuditEvent.objects.filter(action="serial_exception.answered").first()
    assert event is not None and event.payload["attachment"]["sha256"] == attachments[0].sha256
    # Listed with the answers, in the answer and in the batch's exceptions.
    listed_now = cast.api("buyer").get(
        reverse("api-batch-exceptions", args=[cast.batches["own"].pk])
    )
    by_id = {row["id"]: row for row in listed_now.json()["results"]}
    for body in (response.json()[0], by_id[gap]):
        [attachment] = body["answers"][-1]["attachments"]
        assert attachment["name"] == "scrap-tag.jpg"
        assert attachment["sha256"] == attachments[0].sha256
        assert attachment["size"] == photo.size and attachment["content_type"] == "image/jpeg"
        assert attachment["url"] == "http://testserver" + reverse(
            "exception-attachment", args=[attachments[0].pk]
        )
    download = cast.client("buyer").get(reverse("exception-attachment", args=[attachments[0].pk]))
    assert download.status_code == 200
    photo.seek(0)
    assert b"".join(download.streaming_content) == photo.read()


def test_one_reason_for_many_takes_an_attachment_too(cast: Cast, listed: SerialList) -> None:
    ids = _ids(listed)[:2]
    response = cast.api("supplier_a").post(
        ANSWERS,
        {"ids": ids, "reason": "test_scrap", "note": "Scrapped.", "attachment": pdf("log.pdf")},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert ExceptionAttachment.objects.filter(original_name="log.pdf").count() == 2
    assert {a["name"] for row in response.json() for a in row["answers"][-1]["attachments"]} == {
        "log.pdf"
    }


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: png_bomb("bomb.png"), "too large to open safely"),
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
        (lambda: SimpleUploadedFile("empty.pdf", b"", "application/pdf"), "is empty"),
    ],
    ids=["decompression-bomb", "zip-after-jpeg", "html-named-jpg", "csv", "empty"],
)
@pytest.mark.parametrize("form", ["rows", "ids"])
def test_a_hostile_attachment_is_refused_400_naming_the_file(
    cast: Cast,
    listed: SerialList,
    upload: Callable[[], SimpleUploadedFile],
    message: str,
    form: str,
) -> None:
    first = _ids(listed)[0]
    sent = upload()
    body: dict[str, Any] = (
        _multipart_rows([{"id": first, "reason": "test_scrap"}])
        if form == "rows"
        else {"ids": [first], "reason": "test_scrap"}
    )
    response = cast.api("supplier_a").post(
        ANSWERS, {**body, "attachment": sent}, format="multipart"
    )
    assert response.status_code == 400
    [refusal] = response.json()["attachment"]
    assert message in refusal and sent.name in refusal
    assert not ExceptionAnswer.objects.exists() and not ExceptionAttachment.objects.exists()


# ---------------------------------------------------------------- decisions


def test_the_buyer_decides_per_row_on_the_answer_read(cast: Cast, listed: SerialList) -> None:
    gap, single, *_rest = _ids(listed)
    answered = cast.api("supplier_a").post(
        ANSWERS,
        {"rows": [{"id": pk, "reason": "test_scrap", "note": "Scrapped."} for pk in (gap, single)]},
        format="json",
    )
    read = {row["id"]: row["answers"][-1]["id"] for row in answered.json()}
    rows = [
        {
            "id": gap,
            "decision": "accepted",
            "note": "Matches the scrap log.",
            "answer_id": read[gap],
        },
        {
            "id": single,
            "decision": "rejected",
            "note": "Send the scrap log.",
            "answer_id": read[single],
        },
    ]
    response = cast.api("buyer").post(DECISIONS, {"rows": rows, "promises": TESTS}, format="json")
    assert response.status_code == 200, response.content
    decided = {
        d.exception_id: (d.decision, d.note, d.answer_id) for d in ExceptionDecision.objects.all()
    }
    assert decided == {
        gap: ("accepted", "Matches the scrap log.", read[gap]),
        single: ("rejected", "Send the scrap log.", read[single]),
    }
    assert {row["id"]: row["status"] for row in response.json()} == {
        gap: "accepted",
        single: "rejected",
    }


def test_a_decision_on_an_answer_the_supplier_replaced_is_a_409(
    cast: Cast, listed: SerialList
) -> None:
    gap, single, *_rest = _ids(listed)
    supplier = cast.api("supplier_a")
    first = supplier.post(
        ANSWERS,
        {"rows": [{"id": pk, "reason": "test_scrap", "note": "Scrapped."} for pk in (gap, single)]},
        format="json",
    )
    read = {row["id"]: row["answers"][-1]["id"] for row in first.json()}
    # The supplier answers the first again while the buyer reads the first answers.
    supplier.post(
        ANSWERS, {"rows": [{"id": gap, "reason": "other", "note": "Sold locally."}]}, format="json"
    )
    buyer = cast.api("buyer")
    rows = [{"id": pk, "decision": "accepted", "answer_id": read[pk]} for pk in (gap, single)]
    response = buyer.post(DECISIONS, {"rows": rows, "promises": TESTS}, format="json")
    assert response.status_code == 409
    assert "answered again" in response.json()["detail"]
    assert not ExceptionDecision.objects.exists()
    # Another row wrong beside it: a 400 naming every row, and still nothing written.
    mixed = [*rows, {"id": _ids(listed)[2], "decision": "accepted"}]
    refused = buyer.post(DECISIONS, {"rows": mixed, "promises": TESTS}, format="json")
    assert refused.status_code == 400 and set(refused.json()) == {
        str(gap),
        str(_ids(listed)[2]),
    }
    assert not ExceptionDecision.objects.exists()
    newest = ExceptionAnswer.objects.filter(exception_id=gap).latest("id").pk
    rows[0]["answer_id"] = newest
    assert (
        buyer.post(DECISIONS, {"rows": rows, "promises": TESTS}, format="json").status_code == 200
    )
    assert ExceptionDecision.objects.get(exception_id=gap).answer_id == newest


# ---------------------------------------------------------------- who may, on what


def test_a_foreign_or_missing_exception_id_is_a_404_and_writes_nothing(
    cast: Cast, rule: NumberingRule
) -> None:
    own = _ids(_listed(cast, "own"))
    bee = _ids(_listed(cast, "b_order", uploader="supplier_b"))
    supplier_a, supplier_b = cast.api("supplier_a"), cast.api("supplier_b")
    for api, ids in ((supplier_a, [own[0], bee[0]]), (supplier_a, [own[0], 99_999_999])):
        for body in (
            {"ids": ids, "reason": "destroyed"},
            {"rows": [{"id": pk, "reason": "destroyed"} for pk in ids]},
        ):
            response = api.post(ANSWERS, body, format="json")
            assert response.status_code == 404, (ids, body)
            assert "PO-BEE" not in response.content.decode()
    # Another supplier's exceptions, on an order it is not party to: 404, never 403.
    for body in (
        {"ids": own[:1], "reason": "destroyed"},
        {"rows": [{"id": own[0], "reason": "destroyed"}]},
    ):
        assert supplier_b.post(ANSWERS, body, format="json").status_code == 404
    with_file = _multipart_rows([{"id": own[0], "reason": "destroyed"}])
    upload = supplier_b.post(ANSWERS, {**with_file, "attachment": jpeg()}, format="multipart")
    assert upload.status_code == 404
    assert not ExceptionAnswer.objects.exists() and not ExceptionAttachment.objects.exists()


def test_the_buyer_cannot_answer_and_the_supplier_cannot_decide(
    cast: Cast, listed: SerialList
) -> None:
    gap = _ids(listed)[0]
    buyer, supplier = cast.api("buyer"), cast.api("supplier_a")
    for body in (
        {"ids": [gap], "reason": "destroyed"},
        {"rows": [{"id": gap, "reason": "destroyed"}]},
    ):
        assert buyer.post(ANSWERS, body, format="json").status_code == 403
    assert not ExceptionAnswer.objects.exists()
    supplier.post(ANSWERS, {"rows": [{"id": gap, "reason": "destroyed"}]}, format="json")
    answer_id = ExceptionAnswer.objects.get().pk
    for body in (
        {"ids": [gap], "decision": "accepted", "promises": TESTS},
        {"rows": [{"id": gap, "decision": "accepted", "answer_id": answer_id}], "promises": TESTS},
    ):
        assert supplier.post(DECISIONS, body, format="json").status_code == 403
    assert not ExceptionDecision.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_per_row_answers_and_decisions_by_role_own_and_foreign(
    cast_with_lists: Cast, role: str
) -> None:
    """tests/test_access.py sends the short form (ids) per role; this, the rows."""
    cast = cast_with_lists
    api = cast.api(role)
    for key in ("own", "b_order", "foreign"):
        ids = list(cast.serial_lists[key].exceptions.values_list("pk", flat=True))
        assert ids, key
        answer = api.post(
            ANSWERS,
            {"rows": [{"id": pk, "reason": "destroyed", "note": "Jammed."} for pk in ids]},
            format="json",
        )
        decision = api.post(
            DECISIONS,
            {"rows": [{"id": pk, "decision": "accepted"} for pk in ids], "promises": TESTS},
            format="json",
        )
        if key not in VISIBLE[role]:
            assert (answer.status_code, decision.status_code) == (404, 404), (role, key)
            assert (
                cast.orders[key].number not in answer.content.decode() + decision.content.decode()
            )
            continue
        assert answer.status_code == (200 if role in SUPPLIERS else 403), (role, key)
        # Nothing is answered unless this role answered it: a manager's decision is then a 400.
        expected = 400 if role in MANAGERS else 403
        assert decision.status_code == expected, (role, key, decision.content)
