"""A scorecard as the pages show it: for each measure the figure over the period, what it counts
in words, and one bar per month, drawn on the server as SVG shapes (no script, no chart
library; colours come from static/css/scorecards.css, the Content-Security-Policy allowing no
style attribute)."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from orders.models import PurchaseOrder
from scorecards.measures import MEASURES, Counted, Measure, Tally
from scorecards.periods import Period

NO_FIGURE = "—"
# The chart's viewBox: one slot per month, CHART_HEIGHT tall; the SVG is stretched to the card.
SLOT, BAR, CHART_HEIGHT = 10, 7, 40


def _one_decimal(value: float) -> str:
    """Rounded half up to one decimal (number_format alone cuts the digits off)."""
    rounded = Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return number_format(rounded, 1, use_l10n=True, force_grouping=True)


def figure(measure: Measure, counted: Counted) -> str:
    """The headline: "—" when there is nothing to count, never 0."""
    ratio = counted.ratio
    if ratio is None:
        return NO_FIGURE
    if measure.shown_as == "percent":
        return f"{_one_decimal(ratio * 100)} %"
    if measure.shown_as == "per_10000":
        return _one_decimal(ratio * 10000)
    return number_format(counted.numerator, use_l10n=True, force_grouping=True)


def counted_text(measure: Measure, counted: Counted) -> str:
    """What the figure is made of, in words; for a count, with its rate per 10,000 beside."""
    if not counted.denominator:
        return _("Nothing to count in this period.")
    text = measure.counted_as % {
        "numerator": number_format(counted.numerator, use_l10n=True, force_grouping=True),
        "denominator": number_format(counted.denominator, use_l10n=True, force_grouping=True),
        "count": counted.denominator,
    }
    if measure.shown_as == "count" and counted.ratio is not None:
        rate = _one_decimal(counted.ratio * 10000)
        text += " · " + _("%(rate)s per 10,000") % {"rate": rate}
    return text


@dataclass(frozen=True)
class Bar:
    month: datetime.date
    counted: Counted
    x: float
    y: float
    width: float
    height: float
    title: str
    query: str  # the records page's query string for this month
    css: str

    @property
    def label(self) -> str:
        return date_format(self.month, "M")


@dataclass(frozen=True)
class MeasureCard:
    measure: Measure
    total: Counted
    figure: str
    counted_text: str
    bars: list[Bar]
    chart_width: int
    scale: str  # "Scale: 0 to 5 %": the top of the chart

    @property
    def description(self) -> str:
        """The chart in words: its accessible name."""
        return "; ".join(bar.title for bar in self.bars)


def _value(measure: Measure, counted: Counted) -> float | None:
    ratio = counted.ratio
    if ratio is None:
        return None
    return float(counted.numerator) if measure.shown_as == "count" else ratio


def _nice(value: float) -> float:
    """The smallest of 1, 2 and 5 times a power of ten that is at least ``value`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value * (1 - 1e-9))


def chart_top(measure: Measure, months: list[tuple[datetime.date, Counted]]) -> float:
    """The top of the chart's scale, in the measure's own values: the tallest month rounded up
    to 1, 2 or 5 (a percentage at most 100 %), so that two charts with the same scale can be
    compared by eye, and the scale is said under each chart. 0 when there is nothing above 0."""
    values = [_value(measure, counted) for _month, counted in months]
    top = max((value for value in values if value is not None), default=0.0)
    if top <= 0:
        return 0.0
    if measure.shown_as == "percent":
        return min(_nice(top * 100), 100.0) / 100
    if measure.shown_as == "per_10000":
        return _nice(top * 10000) / 10000
    return _nice(top)


def scale_text(measure: Measure, top: float) -> str:
    if not top:
        return ""
    if measure.shown_as == "percent":
        shown = f"{_one_decimal(top * 100)} %"
    elif measure.shown_as == "per_10000":
        shown = _("%(rate)s per 10,000") % {"rate": _one_decimal(top * 10000)}
    else:
        shown = number_format(int(top), use_l10n=True, force_grouping=True)
    return _("Scale: 0 to %(top)s") % {"top": shown}


def _bars(measure: Measure, months: list[tuple[datetime.date, Counted]], query: str) -> list[Bar]:
    """A bar per month. Coloured by what the measure counts: a problem (lower is better,
    orange) or a success (higher is better, blue); a month at the good end is a green tick and
    a month at the bad end a red one; a month with nothing to count is an outline only."""
    values = [_value(measure, counted) for _month, counted in months]
    top = chart_top(measure, months)
    good_at_zero = measure.lower_is_better
    bars = []
    for index, ((month, counted), value) in enumerate(zip(months, values, strict=True)):
        if value is None:
            height, css = 3.0, "score-empty"
        elif value == 0 or not top:
            height, css = 1.5, "score-zero" if good_at_zero else "score-zero-bad"
        else:
            height = max(round(value / top * (CHART_HEIGHT - 2), 2), 1.5)
            css = "score-bar score-bar-problem" if good_at_zero else "score-bar score-bar-success"
        when = date_format(month, "YEAR_MONTH_FORMAT")
        title = f"{when}: {figure(measure, counted)} ({counted_text(measure, counted)})"
        bars.append(
            Bar(
                month=month,
                counted=counted,
                x=index * SLOT + (SLOT - BAR) / 2,
                y=CHART_HEIGHT - height,
                width=BAR,
                height=height,
                title=title,
                query=f"{query}&month={month:%Y-%m}" if query else f"month={month:%Y-%m}",
                css=css,
            )
        )
    return bars


def _pair_months(
    tally: Tally, buyer_id: int, supplier_id: int, period: Period
) -> list[tuple[datetime.date, Counted]]:
    return [
        (month, tally.get((buyer_id, supplier_id, month), Counted())) for month in period.months
    ]


def tallies(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> dict[str, Tally]:
    """Every measure's tally over these orders: one query each (see ``scorecards.measures``)."""
    return {measure.slug: measure.tally(orders, period, viewer) for measure in MEASURES}


def pair_total(tally: Tally, buyer_id: int, supplier_id: int) -> Counted:
    total = Counted()
    for (buyer, supplier, _month), counted in tally.items():
        if buyer == buyer_id and supplier == supplier_id:
            total += counted
    return total


def measure_cards(
    counted: dict[str, Tally], buyer_id: int, supplier_id: int, period: Period, query: str
) -> list[MeasureCard]:
    """The card's figures and charts, one per measure, in the order of MEASURES."""
    cards = []
    for measure in MEASURES:
        months = _pair_months(counted[measure.slug], buyer_id, supplier_id, period)
        total = Counted()
        for _month, month_counted in months:
            total += month_counted
        cards.append(
            MeasureCard(
                measure=measure,
                total=total,
                figure=figure(measure, total),
                counted_text=counted_text(measure, total),
                bars=_bars(measure, months, query),
                chart_width=len(months) * SLOT,
                scale=scale_text(measure, chart_top(measure, months)),
            )
        )
    return cards
