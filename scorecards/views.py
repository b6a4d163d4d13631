"""The scorecard pages: the list of cards the caller may open, one card, and the records behind
one of its figures. Each page counts in a fixed number of queries however many batches lie
behind it (``scorecards.measures``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from orders.selectors import orders_visible_to
from portal.typing import AuthenticatedRequest
from scorecards.cards import counted_text, figure, measure_cards, pair_total, tallies
from scorecards.measures import MEASURES, MEASURES_BY_SLUG
from scorecards.periods import Period, last_twelve_months, period_choices, period_parse
from scorecards.records import RECORDS
from scorecards.selectors import Pair, pair_for, pair_orders, pairs_visible_to, viewer_is_supplier

RECORDS_PAGE_SIZE = 50


def _period(request: AuthenticatedRequest) -> Period:
    """The period asked for; an unknown one is said so, and the last 12 months shown."""
    asked = request.GET.get("period")
    period = period_parse(asked)
    if period is None:
        messages.warning(
            request,
            _("There is no period “%(period)s”; showing the last 12 months.") % {"period": asked},
        )
        return last_twelve_months()
    return period


def _query(period: Period, pair: Pair | None, for_supplier: bool) -> str:
    """The query string that keeps the period (and, for a supplier, the buyer) across links."""
    params = {"period": period.key}
    if pair is not None and for_supplier:
        params["buyer"] = str(pair.buyer.pk)
    return urlencode(params)


def _card_url(pair: Pair, query: str) -> str:
    return f"{reverse('scorecard-detail', args=[pair.supplier.pk])}?{query}"


@login_required
@require_GET
def scorecard_list(request: AuthenticatedRequest) -> HttpResponse:
    """The buyer's suppliers with the period's figures; a supplier's cards, one per buyer it
    works for (straight to the card when there is one)."""
    pairs = pairs_visible_to(request.user)
    period = _period(request)
    for_supplier = viewer_is_supplier(request.user)
    if for_supplier and len(pairs) == 1:
        return redirect(_card_url(pairs[0], _query(period, pairs[0], True)))
    counted = tallies(orders_visible_to(request.user), period, request.user)
    rows = []
    for pair in pairs:
        figures = [
            (
                measure,
                figure(measure, pair_total(counted[measure.slug], pair.buyer.pk, pair.supplier.pk)),
            )
            for measure in MEASURES
        ]
        rows.append((pair, figures, _card_url(pair, _query(period, pair, for_supplier))))
    return render(
        request,
        "scorecards/scorecard_list.html",
        {
            "rows": rows,
            "measures": MEASURES,
            "period": period,
            "periods": period_choices(),
            "for_supplier": for_supplier,
        },
    )


def _pair(request: AuthenticatedRequest, pk: int) -> tuple[Pair, bool]:
    return pair_for(request.user, pk, request.GET.get("buyer")), viewer_is_supplier(request.user)


@login_required
@require_GET
def scorecard_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One buyer–supplier card: a figure and a chart by month per measure, each figure one
    click from its records."""
    pair, for_supplier = _pair(request, pk)
    period = _period(request)
    query = _query(period, pair, for_supplier)
    counted = tallies(pair_orders(request.user, pair), period, request.user)
    other_buyers = []
    if for_supplier:
        other_buyers = [
            (other, _card_url(other, _query(period, other, True)))
            for other in pairs_visible_to(request.user)
            if other.supplier.pk == pair.supplier.pk and other.buyer.pk != pair.buyer.pk
        ]
    return render(
        request,
        "scorecards/scorecard_detail.html",
        {
            "pair": pair,
            "cards": measure_cards(counted, pair.buyer.pk, pair.supplier.pk, period, query),
            "period": period,
            "periods": period_choices(),
            "query": query,
            "for_supplier": for_supplier,
            "other_buyers": other_buyers,
        },
    )


@login_required
@require_GET
def scorecard_records(request: AuthenticatedRequest, pk: int, measure: str) -> HttpResponse:
    """The records behind one figure of a card, for its period or one month of it."""
    pair, for_supplier = _pair(request, pk)
    found = MEASURES_BY_SLUG.get(measure)
    if found is None:
        raise Http404("No such measure.")
    period = _period(request)
    query = _query(period, pair, for_supplier)
    shown = period
    if month_key := request.GET.get("month"):
        month = period.month(month_key)
        if month is None:
            messages.warning(
                request,
                _("“%(month)s” is not a month of %(period)s; showing the whole period.")
                % {"month": month_key, "period": period.label},
            )
        else:
            shown = month
    orders = pair_orders(request.user, pair)
    total = pair_total(found.tally(orders, shown, request.user), pair.buyer.pk, pair.supplier.pk)
    rows, row = RECORDS[found.slug](orders, shown, request.user)
    page = Paginator(rows, RECORDS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "scorecards/scorecard_records.html",
        {
            "pair": pair,
            "measure": found,
            "period": period,
            "shown": shown,
            "query": query,
            "month_key": shown.key if shown is not period else "",
            "figure": figure(found, total),
            "counted_text": counted_text(found, total),
            "page": page,
            "records": row(list(page.object_list)),
            "card_url": _card_url(pair, query),
            "for_supplier": for_supplier,
        },
    )
