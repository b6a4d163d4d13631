"""The periods a scorecard shows: the last twelve months, or one calendar quarter, always as
whole months in the current time zone (the month a fact falls in is the month of its date there).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

LAST_TWELVE = "12m"
# Quarters offered in the period menu, counted back from the current one.
QUARTERS_OFFERED = 8
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@dataclass(frozen=True)
class Period:
    """Whole months from ``first`` (a first of the month) for ``count`` months."""

    key: str
    first: datetime.date
    count: int

    @property
    def months(self) -> list[datetime.date]:
        return [_add_months(self.first, n) for n in range(self.count)]

    @property
    def end(self) -> datetime.date:
        """The first day after the period."""
        return _add_months(self.first, self.count)

    @property
    def start_moment(self) -> datetime.datetime:
        return _aware(self.first)

    @property
    def end_moment(self) -> datetime.datetime:
        return _aware(self.end)

    @property
    def label(self) -> str:
        if self.key == LAST_TWELVE:
            return _("the last 12 months")
        if self.count == 1:
            return date_format(self.first, "YEAR_MONTH_FORMAT")
        return _("%(year)s, quarter %(quarter)s") % {
            "year": self.first.year,
            "quarter": (self.first.month - 1) // 3 + 1,
        }

    def month(self, key: str) -> Period | None:
        """One month of this period, from its ``YYYY-MM``; None if it is not one of them."""
        found = MONTH.match(key)
        if not found or not 1 <= int(found[2]) <= 12:
            return None
        first = datetime.date(int(found[1]), int(found[2]), 1)
        if first not in self.months:
            return None
        return Period(key, first, 1)


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def last_twelve_months() -> Period:
    return Period(LAST_TWELVE, _add_months(this_month(), -11), 12)


def quarter_of(month: datetime.date) -> Period:
    first = datetime.date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    return Period(f"{first.year}-Q{(first.month - 1) // 3 + 1}", first, 3)


def period_choices() -> list[Period]:
    """The menu: the last twelve months, then the quarters, newest first."""
    current = quarter_of(this_month())
    quarters = [quarter_of(_add_months(current.first, -3 * n)) for n in range(QUARTERS_OFFERED)]
    return [last_twelve_months(), *quarters]


def period_parse(key: str | None) -> Period | None:
    """The period a ``period`` parameter names: ``12m`` or ``YYYY-Qn``; None if it names none
    (the caller says so and shows the default)."""
    if not key or key == LAST_TWELVE:
        return last_twelve_months()
    found = QUARTER.match(key)
    if not found or not 1990 <= int(found[1]) <= 2999:
        return None
    return quarter_of(datetime.date(int(found[1]), (int(found[2]) - 1) * 3 + 1, 1))
