"""Supplier scorecards from the portal's own facts: lists uploaded with gaps, duplicates and
reused serials, batches accepted, written requests answered late, evidence flagged, inspections
failed and blocked, all made through the services; each figure checked on the card, and the
records behind it one click away."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence import services as evidence_services
from evidence.models import EvidenceItem
from inspection import services as inspection_services
from inspection.models import InspectionPlan
from orders import services as order_services
from orders.models import Batch
from scorecards.cards import _bars, chart_top, measure_cards, scale_text
from scorecards.measures import MEASURES, Counted
from scorecards.periods import Period
from serials import services as serial_services
from serials.models import SerialList
from tests.conftest import Cast
from tests.evidence.conftest import jpeg

SERIALS = range(1, 11)


def _csv(counters: list[int]) -> bytes:
    return ("serial\n" + "".join(f"VLT{n:06d}\n" for n in counters)).encode()


def _list(
    cast: Cast, batch: Batch, counters: list[int], name: str, by: str = "supplier_a"
) -> SerialList:
    uploaded = serial_services.serial_list_upload(
        batch=batch, user=cast.users[by], uploaded_file=SimpleUploadedFile(name, _csv(counters))
    )
    serial_services.serial_list_validate(serial_list_id=uploaded.pk)
    uploaded.refresh_from_db()
    assert uploaded.status == SerialList.Status.DONE, uploaded.error
    return uploaded


def _batch(cast: Cast, code: str) -> Batch:
    return order_services.batch_create(
        order=cast.orders["own"], user=cast.users["buyer"], code=code, planned_quantity=100
    )


def _evidence(cast: Cast, batch: Batch, upload: SimpleUploadedFile, by: str) -> EvidenceItem:
    item = evidence_services.evidence_upload(
        batch=batch, user=cast.users[by], kind="photo", uploaded_file=upload
    )
    evidence_services.evidence_process(item_id=item.pk)
    return item


def _text(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), "text/plain")


@dataclass
class Story:
    cast: Cast
    lists: dict[str, SerialList]
    batches: dict[str, Batch]
    plans: dict[str, InspectionPlan]
    requests: dict[str, object]


@pytest.fixture
def story(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> Story:
    """Supplier A on the buyer's order PO-OWN:

    - batch 1: a list with a gap, then a complete one (1–10), accepted: not first time;
    - batch 2: one complete list (11–20), accepted: first time;
    - batch 3: 19–31 without 23 and 24, with 27 and 28 twice: 2 missing of 13 expected,
      2 duplicated serials in 13 rows, 2 serials (19, 20) batch 2 already holds;
    - three written requests, one answered in time, one late, one never (past due);
    - evidence: a photo captured before the order, one file on two batches, one clean file;
    - inspections of batch 2: failed, blocked, passed, and one still in progress.

    Supplier B on PO-BEE: one complete list (101–105). Supplier A on the other buyer's
    PO-FOREIGN: one clean file."""
    from serials.services import numbering_rule_save

    for buyer in ("buyer", "other_buyer"):
        numbering_rule_save(
            user=cast.users[buyer],
            product="05012345678900",
            prefix="VLT",
            width=6,
            check_digit="none",
        )
    batches = {"1": cast.batches["own"], "2": _batch(cast, "OWN-B2"), "3": _batch(cast, "OWN-B3")}
    lists = {
        "1a": _list(cast, batches["1"], [1, 2, 5, 6, 7, 8, 9, 10], "first.csv"),
        "1b": _list(cast, batches["1"], list(SERIALS), "second.csv"),
        "2": _list(cast, batches["2"], list(range(11, 21)), "b2.csv"),
    }
    buyer = cast.users["buyer"]
    serial_services.batch_serials_accept(batch=batches["1"], user=buyer)
    serial_services.batch_serials_accept(batch=batches["2"], user=buyer)
    third = [19, 20, 21, 22, 25, 26, 27, 27, 28, 28, 29, 30, 31]
    lists["3"] = _list(cast, batches["3"], third, "b3.csv")
    lists["bee"] = _list(
        cast, cast.batches["b_order"], list(range(101, 106)), "bee.csv", by="supplier_b"
    )

    today = timezone.localdate()
    asked = {
        key: evidence_services.request_create(
            batch=batches["1"],
            user=buyer,
            subject=f"Request {key}",
            question="Which line printed the labels?",
            due_on=due,
            promises=["process"],
        )
        for key, due in (
            ("in_time", today + datetime.timedelta(days=1)),
            ("late", today),
            ("never", today),
        )
    }
    supplier = cast.users["supplier_a"]
    evidence_services.statement_write(request=asked["in_time"], user=supplier, text="Line 1.")
    real_now = timezone.now
    with monkeypatch.context() as later:
        later.setattr(timezone, "now", lambda: real_now() + datetime.timedelta(days=2))
        evidence_services.statement_write(request=asked["late"], user=supplier, text="Line 2.")

    _evidence(cast, batches["1"], jpeg("old.jpg", captured="2026:10:01 09:00:00"), "supplier_a")
    same = "Label printer log, line 2, 2026-11-03."
    _evidence(cast, batches["1"], _text("log.txt", same), "supplier_a")
    _evidence(cast, batches["2"], _text("log-again.txt", same), "supplier_a")
    _evidence(cast, batches["3"], _text("clean.txt", "Packing note for batch 3."), "supplier_a")
    _evidence(
        cast, cast.batches["foreign"], _text("foreign.txt", "Foreign packing note."), "supplier_a"
    )

    plans = {}
    inspector = cast.users["inspector"]
    for key in ("failed", "blocked", "passed", "in_progress"):
        plans[key] = inspection_services.inspection_plan_create(
            batch=batches["2"], user=inspector, level="II", aql="1.0"
        )
    failed = plans["failed"]
    for unit in list(failed.units.order_by("position"))[: failed.reject]:
        inspection_services.unit_result_record(
            unit=unit, user=inspector, method="typed", label_text="VLT999999"
        )
    inspection_services.blocked_step_record(
        plan=plans["blocked"],
        user=inspector,
        step="open_cartons",
        blocked_by="Warehouse manager",
        reason="No access to the cartons.",
    )
    for unit in plans["passed"].units.all():
        inspection_services.unit_result_record(
            unit=unit, user=inspector, method="typed", label_text=unit.serial
        )
    # Three days on: the requests due today are past due.
    later_day = today + datetime.timedelta(days=3)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later_day)
    return Story(cast, lists, batches, plans, asked)


def _figures(html: str) -> dict[str, str]:
    """measure id → the figure the card shows for it."""
    found = re.findall(
        r'id="score-([a-z-]+)">.*?class="score-figure[^"]*"[^>]*>([^<]*)</a>', html, re.S
    )
    return dict(found)


def _card(story: Story, role: str, supplier: str = "supplier_a", **params: str) -> str:
    cast = story.cast
    url = reverse("scorecard-detail", args=[cast.organisations[supplier].pk])
    response = cast.client(role).get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_counts_each_measure_from_the_facts(story: Story) -> None:
    figures = _figures(_card(story, "buyer"))
    assert figures == {
        "gaps": "6.1 %",  # 2 missing of 10 + 10 + 13 expected
        "duplicates": "606.1",  # 2 duplicated serials per 33 rows, × 10,000
        "reuse": "2",  # 19 and 20, held by batch 2
        "late-answers": "66.7 %",  # the late one and the one never answered, of three due
        "old-evidence": "75.0 %",  # the old photo and the file on two batches, of four
        "first-time": "50.0 %",  # batch 2 first time, batch 1 on its second list
        "inspections": "66.7 %",  # failed and blocked, of three with an outcome
    }


def test_it_says_what_each_figure_is_made_of(story: Story) -> None:
    html = _card(story, "finance")
    for words in (
        "2 missing of 33 expected serials",
        "2 duplicated serials in 33 rows",
        "2 reused serials in 33 rows · 606.1 per 10,000",
        "2 late of 3 requests due",
        "3 flagged of 4 files",
        "1 first-time of 2 batches accepted",
        "2 failed or blocked of 3 inspections",
        "How is this counted?",
        "Counted in the month the list was uploaded.",
    ):
        assert words in html, words


def test_it_shows_a_dash_not_zero_when_nothing_is_counted(story: Story) -> None:
    figures = _figures(_card(story, "buyer", "supplier_b"))
    assert figures["gaps"] == "0.0 %"  # one complete list: counted, and nothing missing
    for slug in ("late-answers", "old-evidence", "first-time", "inspections"):
        assert figures[slug] == "—", slug
    # A quarter long past: nothing at all to count.
    assert set(_figures(_card(story, "buyer", period="2020-Q1")).values()) == {"—"}


def test_it_counts_only_the_viewing_buyer_s_orders(story: Story) -> None:
    """Supplier A's card for the other buyer counts PO-FOREIGN alone: one clean file."""
    cast = story.cast
    figures = _figures(_card(story, "other_buyer"))
    assert figures["old-evidence"] == "0.0 %"
    assert figures["gaps"] == "—" and figures["inspections"] == "—"
    other = str(cast.organisations["other_buyer"].pk)
    assert _figures(_card(story, "supplier_a", buyer=other)) == figures
    assert _figures(_card(story, "supplier_a", buyer=str(cast.organisations["buyer"].pk)))[
        "gaps"
    ] == ("6.1 %")


def _records(story: Story, role: str, measure: str, **params: str) -> str:
    cast = story.cast
    url = reverse("scorecard-records", args=[cast.organisations["supplier_a"].pk, measure])
    response = cast.client(role).get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_each_figure_links_to_the_records_behind_it(story: Story) -> None:
    html = _card(story, "buyer")
    supplier = story.cast.organisations["supplier_a"].pk
    for slug in ("gaps", "duplicates", "reuse", "late-answers", "old-evidence", "first-time"):
        assert f'href="{reverse("scorecard-records", args=[supplier, slug])}?period=12m"' in html

    gaps = _records(story, "buyer", "gaps")
    third = story.lists["3"]
    assert reverse("serial-list-detail", args=[third.pk]) in gaps
    assert reverse("batch-exceptions", args=[third.batch_id]) in gaps
    # The list with the gap stands out, first; the first list of batch 1 is not counted.
    assert gaps.index(f"#{third.pk}") < gaps.index(f"#{story.lists['2'].pk}")
    assert f"#{story.lists['1a'].pk} " not in gaps
    assert "2 missing of 13 expected" in gaps

    late = _records(story, "buyer", "late-answers")
    for key in ("late", "never", "in_time"):
        assert reverse("request-detail", args=[story.requests[key].pk]) in late  # type: ignore[attr-defined]
    assert "not answered" in late

    accepted = _records(story, "buyer", "first-time")
    assert f"its first was #{story.lists['1a'].pk}" in accepted
    assert reverse("serial-list-detail", args=[story.lists["1b"].pk]) in accepted

    flagged = _records(story, "buyer", "old-evidence")
    assert "Captured before the order existed" in flagged
    assert flagged.count("Same file on another batch") == 2
    assert "Not flagged" in flagged

    inspections = _records(story, "buyer", "inspections")
    for key in ("failed", "blocked", "passed"):
        assert reverse("inspection-detail", args=[story.plans[key].pk]) in inspections
    assert reverse("inspection-detail", args=[story.plans["in_progress"].pk]) not in inspections


def test_a_supplier_sees_outcomes_but_never_the_inspection_pages(story: Story) -> None:
    inspections = _records(story, "supplier_a", "inspections")
    assert "Failed" in inspections and "Blocked" in inspections
    for plan in story.plans.values():
        assert reverse("inspection-detail", args=[plan.pk]) not in inspections
    assert reverse("batch-detail", args=[story.batches["2"].pk]) in inspections


def test_a_bar_opens_the_records_of_its_month(story: Story) -> None:
    this_month = timezone.localdate().strftime("%Y-%m")
    html = _card(story, "buyer")
    assert f"?period=12m&amp;month={this_month}" in html
    month = _records(story, "buyer", "gaps", month=this_month)
    assert "2 missing of 13 expected" in month
    long_ago = _records(story, "buyer", "gaps", month="1999-01")
    assert "is not a month of" in long_ago  # said, and the whole period shown


def test_an_unknown_period_is_said_and_the_last_12_months_shown(story: Story) -> None:
    html = _card(story, "buyer", period="last-week")
    assert "There is no period “last-week”" in html
    assert _figures(html)["gaps"] == "6.1 %"


def test_the_list_shows_each_supplier_with_its_figures(story: Story) -> None:
    cast = story.cast
    html = cast.client("admin").get(reverse("scorecard-list")).content.decode()
    assert "Supplier A Co" in html and "Supplier B Co" in html
    assert "6.1 %" in html and "0.0 %" in html


def test_the_number_of_queries_does_not_grow_with_the_batches(story: Story) -> None:
    cast = story.cast
    client = cast.client("buyer")
    url = reverse("scorecard-detail", args=[cast.organisations["supplier_a"].pk])
    client.get(url)  # sessions and caches warmed
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(4, 8):
        batch = _batch(cast, f"OWN-B{n}")
        _list(cast, batch, list(range(n * 100, n * 100 + 10)), f"b{n}.csv")
        _evidence(cast, batch, _text(f"note{n}.txt", f"Note {n}."), "supplier_a")
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert _figures(response.content.decode())["gaps"] != "6.1 %"  # the new lists counted
    assert len(after) == len(before)


def test_a_similar_photo_on_another_batch_counts_as_flagged(cast: Cast) -> None:
    """The same scene sent again, resized and recompressed, on supplier B's batch: both files
    stand out on their supplier's card, as freshness_flags names them (the evidence app's
    similar-photo index; skipped in a tree without it)."""
    import io

    from PIL import ExifTags, Image

    pytest.importorskip("evidence.similar")
    from demo.documents import photo_scene

    def photo(image: Image.Image, name: str, quality: int) -> SimpleUploadedFile:
        exif = Image.Exif()
        exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2026:11:02 08:00:00"  # after the orders
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=exif)
        return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")

    scene = photo_scene(7, size=(1200, 900))
    half = scene.resize((600, 450), Image.Resampling.LANCZOS)
    _evidence(cast, cast.batches["own"], photo(scene, "scene.jpg", 90), "supplier_a")
    _evidence(cast, cast.batches["b_order"], photo(half, "again.jpg", 60), "supplier_b")
    _evidence(
        cast,
        cast.batches["own"],
        photo(photo_scene(8, size=(1200, 900)), "other.jpg", 90),
        "supplier_a",
    )
    story = Story(cast, {}, {}, {}, {})
    assert _figures(_card(story, "buyer"))["old-evidence"] == "50.0 %"  # the scene, not the other
    assert _figures(_card(story, "buyer", "supplier_b"))["old-evidence"] == "100.0 %"
    flagged = _records(story, "buyer", "old-evidence")
    assert flagged.count("Similar photo on another batch") == 1
    assert flagged.index("scene.jpg") < flagged.index("other.jpg")


def test_a_chart_says_its_scale_and_colours_a_month_by_what_it_counts() -> None:
    """Two charts fill their height alike only when their scales say so; a month at the good
    end is green, at the bad end red, and a month with nothing to count is only an outline."""
    by_slug = {measure.slug: measure for measure in MEASURES}
    months = [datetime.date(2026, month, 1) for month in (9, 10, 11)]
    gaps = list(zip(months, [Counted(1, 500), Counted(0, 400), Counted()], strict=True))
    assert chart_top(by_slug["gaps"], gaps) == pytest.approx(0.002)
    assert scale_text(by_slug["gaps"], chart_top(by_slug["gaps"], gaps)) == "Scale: 0 to 0.2 %"
    card = measure_cards(
        {slug: {} for slug in by_slug}, 1, 2, Period("q", months[0], 3), ""
    )  # nothing at all: no scale
    assert {c.scale for c in card} == {""}
    bars = [bar.css for bar in _bars(by_slug["gaps"], gaps, "")]
    assert bars == ["score-bar score-bar-problem", "score-zero", "score-empty"]
    firsts = list(zip(months, [Counted(3, 4), Counted(0, 2), Counted()], strict=True))
    bars = [bar.css for bar in _bars(by_slug["first-time"], firsts, "")]
    assert bars == ["score-bar score-bar-success", "score-zero-bad", "score-empty"]
    assert scale_text(by_slug["first-time"], chart_top(by_slug["first-time"], firsts)) == (
        "Scale: 0 to 100.0 %"
    )
    counts = list(zip(months, [Counted(7, 900), Counted(0, 1), Counted()], strict=True))
    assert chart_top(by_slug["reuse"], counts) == 10  # a count: 7 rounds up to 10
