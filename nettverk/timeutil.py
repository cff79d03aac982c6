"""Time: store UTC (timezone-aware; SQLModel's UTCDateTime column keeps it so on SQLite and PostgreSQL),
show Europe/Oslo."""

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

OSLO = ZoneInfo("Europe/Oslo")

WEEKDAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
MONTHS = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_oslo(value: datetime) -> datetime:
    if value.tzinfo is None:  # a naive value here is UTC by our convention
        value = value.replace(tzinfo=UTC)
    return value.astimezone(OSLO)


def _oslo_day(value: date | datetime) -> date | datetime:
    """A stored UTC time as Oslo time; a date as it is."""
    return to_oslo(value) if isinstance(value, datetime) else value


def format_date(value: date | datetime | None) -> str:
    """'tirsdag 11. mars 2025'."""
    if value is None:
        return ""
    value = _oslo_day(value)
    return f"{WEEKDAYS[value.weekday()]} {value.day}. {MONTHS[value.month - 1]} {value.year}"


def format_datetime(value: datetime | None) -> str:
    """'tirsdag 11. mars 2025 kl. 09.00' in Oslo time, from stored UTC."""
    if value is None:
        return ""
    local = to_oslo(value)
    return f"{format_date(local.date())} kl. {local:%H.%M}"


class LocalTimeError(ValueError):
    """A wall-clock time that does not exist, or exists twice, in Oslo (DST change)."""


def oslo_to_utc(day: date, clock: time) -> datetime:
    """Oslo wall-clock time to UTC, refusing the hour that is skipped in March and the hour
    that happens twice in October: a gathering must never start at an ambiguous time."""
    first = datetime.combine(day, clock, tzinfo=OSLO)
    if first.astimezone(UTC).astimezone(OSLO).replace(tzinfo=None) != first.replace(tzinfo=None):
        raise LocalTimeError(
            f"Klokken {clock:%H.%M} finnes ikke {format_date(day)} fordi klokken stilles "
            "fram til sommertid. Velg et annet klokkeslett."
        )
    if first.utcoffset() != first.replace(fold=1).utcoffset():
        raise LocalTimeError(
            f"Klokken {clock:%H.%M} finnes to ganger {format_date(day)} fordi klokken stilles "
            "tilbake. Velg et annet klokkeslett."
        )
    return first.astimezone(UTC)


def oslo_midnight(day: date) -> datetime:
    """The start of a day in Oslo, as UTC (used for all-day events)."""
    return datetime.combine(day, time(0, 0), tzinfo=OSLO).astimezone(UTC)


def format_time(value: datetime | None) -> str:
    return f"{to_oslo(value):%H.%M}" if value else ""


def format_short_date(value: date | datetime | None) -> str:
    """'11. mars 2025' (for tables and lists where the weekday is noise)."""
    if value is None:
        return ""
    value = _oslo_day(value)
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


def format_month(value: date | datetime | None) -> str:
    """'mars 2025'."""
    if value is None:
        return ""
    value = _oslo_day(value)
    return f"{MONTHS[value.month - 1]} {value.year}"


def iso(value: date | datetime | None) -> str:
    """The machine-readable value of a <time datetime="…">: a date, or an Oslo time with its offset."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_oslo(value).isoformat(timespec="minutes")
    return value.isoformat()


def _day_range(first: date, last: date) -> str:
    """'tirsdag 11.–torsdag 13. mars 2025', 'mandag 31. mars – onsdag 2. april 2025', or with both years."""
    if first.year != last.year:
        return f"{format_date(first)} – {format_date(last)}"
    if first.month != last.month:
        return f"{WEEKDAYS[first.weekday()]} {first.day}. {MONTHS[first.month - 1]} – {format_date(last)}"
    return f"{WEEKDAYS[first.weekday()]} {first.day}.–{format_date(last)}"


def format_span(starts_at: datetime, ends_at: datetime, all_day: bool = False) -> str:
    """When an event happens, in Oslo time, saying each thing once:
    'tirsdag 11. mars 2025 kl. 09.00–15.30' (one day), 'tirsdag 11.–onsdag 12. mars 2025' (all-day, several
    days), 'tirsdag 11. mars kl. 09.00 – onsdag 12. mars 2025 kl. 15.00' (several days with times)."""
    start, end = to_oslo(starts_at), to_oslo(ends_at)
    if all_day:
        last = (end - timedelta(days=1)).date()
        if last <= start.date():
            return format_date(start.date())
        return _day_range(start.date(), last)
    if start.date() == end.date():
        return f"{format_datetime(starts_at)}–{end:%H.%M}"
    if start.year == end.year:
        first = f"{WEEKDAYS[start.weekday()]} {start.day}. {MONTHS[start.month - 1]}"
        return f"{first} kl. {start:%H.%M} – {format_datetime(ends_at)}"
    return f"{format_datetime(starts_at)} – {format_datetime(ends_at)}"


# The window of dates anyone may enter or ask for. A date outside it is a typo (year 0001 or 9999) that would
# overflow the arithmetic around it (a datetime of 9999-12-31 plus a day) and answer 500 instead of a message.
EARLIEST_DAY = date(2000, 1, 1)  # nothing this platform plans or lists happened before
EARLIEST_RECORD_DAY = date(1950, 1, 1)  # a person's training, or a document, may be older
EARLIEST_MERGER_DAY = date(1838, 1, 1)  # the municipalities' history starts with the formannskapslovene
PLANNING_YEARS = 10  # nothing is planned further ahead
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")  # date.fromisoformat alone also takes 20260310 and 2026-W11-2


class DateOutOfRange(ValueError):
    """A date outside the window; str() is the Norwegian message for the person."""


def today_in_oslo() -> date:
    return to_oslo(utcnow()).date()


def latest_day(years: int = PLANNING_YEARS) -> date:
    """Today in Oslo, `years` ahead (28 February for a 29th)."""
    today = today_in_oslo()
    return today.replace(year=today.year + years, day=min(today.day, 28) if today.month == 2 else today.day)


def check_day(day: date, earliest: date = EARLIEST_DAY, latest: date | None = None) -> date:
    """The day itself if it lies in the window (both ends included), else DateOutOfRange."""
    latest = latest or latest_day()
    if not earliest <= day <= latest:
        raise DateOutOfRange(f"Velg en dato mellom {format_short_date(earliest)} og {format_short_date(latest)}.")
    return day


def parse_day(text: str, earliest: date = EARLIEST_DAY, latest: date | None = None) -> date:
    """A day written ÅÅÅÅ-MM-DD (a URL's or the API's), checked against the window; ValueError otherwise."""
    text = (text or "").strip()
    try:
        if not DAY_PATTERN.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Datoen må skrives som år-måned-dag, for eksempel {today_in_oslo().isoformat()}.") from None
    return check_day(day, earliest, latest)


@lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    # Norway's calendar in the library counts every Sunday as a holiday unless told not to.
    return holidays.country_holidays("NO", years=year, include_sundays=False, language="no")


def holiday_name(day: date) -> str | None:
    """The Norwegian public holiday on that day (Sundays are not counted as such), or None. Two on
    one day are named together ('Andre pinsedag og Grunnlovsdag', 17 May 2027)."""
    names = _holidays(day.year).get_list(day)
    return " og ".join(names) if names else None
