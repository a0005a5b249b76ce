"""Reading the date cells of an imported file.

ISO 8601 goes through `datetime.fromisoformat`, the fast path. Numeric dates
such as ``16/03/2015`` or ``03.16.2015 14:40`` are read in the day/month order
decided once for the whole column (see `OrderSurvey`), never guessed cell by
cell. Everything else goes through dateutil, parsed twice with two different
default dates: a part missing from the cell (year, month or day) would come
from the defaults, so the two results differ and the cell is refused. Nothing
is ever filled in from today, and two-digit years are refused because their
century would be.

A cell without a time of day means the start of that day. A cell without an
offset is read in the zone the caller names; without a zone it is refused. An
offset of 24 hours or more is refused (``offset out of range``).
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final

from dateutil import parser as dateutil_parser

__all__ = ["DateOrder", "DateReader", "OrderSurvey", "Refused"]

# Day/month forms: two numbers of one or two digits, then a year, separated by
# one of ``/ . -`` used consistently; a time may follow after a space or T.
_DAY_MONTH: Final = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{1,4})(?:[ T](.*))?\Z")
_YEAR_FIRST: Final = re.compile(r"(\d{4})([./-])(\d{1,2})\2(\d{1,2})(?:[ T](.*))?\Z")
_DEFAULTS: Final = (datetime(2000, 1, 1), datetime(2001, 2, 2))
_UTC_NAMES: Final = frozenset({"UTC", "GMT", "UT", "Z"})
_MONTHS: Final = 12
_PLACEHOLDER: Final = datetime(2000, 1, 1, tzinfo=UTC)


def _offset(moment: datetime) -> timedelta:
    """The moment's UTC offset, refused unless strictly within a day."""
    try:
        # datetime refuses an offset of a day or more that dateutil accepted.
        return moment.utcoffset() or timedelta(0)
    except ValueError:
        raise Refused("offset out of range") from None


class DateOrder(enum.Enum):
    """The order of day and month in numeric dates such as ``03/04/2024``."""

    DAY_FIRST = "day-first"
    MONTH_FIRST = "month-first"


class Refused(Exception):  # noqa: N818 - internal signal, turned into FieldError
    """A cell that is not a usable date; ``rule`` says why."""

    def __init__(self, rule: str) -> None:
        """Keep the rule."""
        super().__init__(rule)
        self.rule = rule


class _StrictYears(dateutil_parser.parserinfo):
    """dateutil's words, but a two-digit year is refused, never given a century."""

    def convertyear(self, year: int, century_specified: bool = False) -> int:
        if year < 100 and not century_specified:
            raise Refused("two-digit year")
        result: int = super().convertyear(year, century_specified)
        return result


_PARSER: Final = dateutil_parser.parser(_StrictYears())


def _zone_for(name: str | None, offset: int | None) -> int:
    """Offsets are kept; of zone names only UTC's spellings are understood."""
    if name is None or name.upper() in _UTC_NAMES:
        return offset or 0
    raise Refused("not a date (unknown time zone name)")


class OrderSurvey:
    """Evidence of the day/month order, gathered over a whole column.

    A cell such as ``16/03/2015`` can only be day first, ``03/16/2015`` only
    month first; ``03/04/2015`` could be either. After the first pass over the
    file, `decide` settles the order for the column.
    """

    def __init__(self) -> None:
        """Start with no evidence."""
        self.day_first = 0
        self.month_first = 0
        self.ambiguous = 0
        self.numeric = 0

    def observe(self, match: re.Match[str]) -> None:
        """Count one day/month cell."""
        self.numeric += 1
        first, second = int(match[1]), int(match[3])
        if first > _MONTHS >= second:
            self.day_first += 1
        elif second > _MONTHS >= first:
            self.month_first += 1
        elif first != second:
            self.ambiguous += 1

    def decide(
        self, named: DateOrder | None, fallback: DateOrder | None
    ) -> DateOrder | None:
        """Return the column's order: named, else evidence, else the fallback.

        Args:
            named: An order the caller named; it always wins.
            fallback: The order of the caller's locale, used when no cell
                settles the question.

        Returns:
            The order, or None when it cannot be decided (cells of both kinds,
            or only ambiguous cells and no fallback).
        """
        if named is not None:
            return named
        if self.day_first and self.month_first:
            return None
        if self.day_first:
            return DateOrder.DAY_FIRST
        if self.month_first:
            return DateOrder.MONTH_FIRST
        return fallback

    def undecided_rule(self) -> str:
        """Why numeric cells are refused when `decide` found no order."""
        if self.day_first and self.month_first:
            return "day/month order differs within the column"
        return "day/month order ambiguous; name the date order"


class DateReader:
    """Read date cells in one column's order and the caller's zone.

    Args:
        zone: Zone of cells without an offset; None refuses such cells.
        order: The column's day/month order; None refuses every numeric cell
            whose day and month could be swapped.
        survey: While the column is being surveyed, its day/month cells are
            counted there and read as a placeholder (their order is not
            decided yet); once decided, the survey names why an undecided
            order refuses a cell.
        surveying: True during the survey, False once the order is decided.
    """

    def __init__(
        self,
        zone: tzinfo | None,
        order: DateOrder | None,
        survey: OrderSurvey,
        *,
        surveying: bool,
    ) -> None:
        """Keep the column's settings."""
        self.zone = zone
        self.order = order
        self._survey = survey if surveying else None
        self._undecided = survey.undecided_rule()

    def read(self, text: str) -> datetime:
        """Return the aware moment a cell names.

        Raises:
            Refused: the cell is not a complete date, or it has no offset and
                no zone was named.
        """
        try:
            return self._aware(datetime.fromisoformat(text))
        except ValueError:
            pass
        text = text.strip()
        match = _DAY_MONTH.match(text)
        if match is not None:
            return self._day_month(match)
        match = _YEAR_FIRST.match(text)
        if match is not None:
            return self._numeric(int(match[1]), int(match[3]), int(match[4]), match[5])

        return self._dateutil(text)

    def _day_month(self, match: re.Match[str]) -> datetime:
        if self._survey is not None:
            self._survey.observe(match)
            return _PLACEHOLDER
        first, second, year = int(match[1]), int(match[3]), match[4]
        if len(year) != 4:
            raise Refused("two-digit year" if len(year) <= 2 else "not a date")
        if self.order is None and first != second:
            raise Refused(self._undecided)
        day, month = (second, first)
        if self.order is DateOrder.DAY_FIRST:
            day, month = first, second
        return self._numeric(int(year), month, day, match[5])

    def _numeric(self, year: int, month: int, day: int, rest: str | None) -> datetime:
        try:
            date = datetime(year, month, day)
        except ValueError:
            order = self.order.value if self.order else "either"
            raise Refused(f"not a date in {order} order") from None
        if rest is None or not rest.strip():
            return self._aware(date)
        return self._dateutil(f"{date:%Y-%m-%d} {rest.strip()}")

    def _dateutil(self, text: str) -> datetime:
        dayfirst = self.order is DateOrder.DAY_FIRST
        try:
            one, two = (
                _PARSER.parse(
                    text, default=default, dayfirst=dayfirst, tzinfos=_zone_for
                )
                for default in _DEFAULTS
            )
        except Refused:
            raise
        except (ValueError, OverflowError, TypeError):
            raise Refused("not a date") from None
        if one.date() != two.date():
            raise Refused("incomplete date: year, month and day are required")
        if one.tzinfo is not None:
            # A fixed offset, whatever dateutil's tzinfo class, so nothing
            # depends on the machine's local zone.
            return one.replace(tzinfo=timezone(_offset(one)))

        return self._aware(one)

    def _aware(self, moment: datetime) -> datetime:
        if moment.tzinfo is not None:
            return moment
        if self.zone is None:
            raise Refused("no time zone in the cell and none named")
        return moment.replace(tzinfo=self.zone)
