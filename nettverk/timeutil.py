"""Time: store UTC (timezone-aware; SQLModel's UTCDateTime column keeps it so on SQLite and PostgreSQL),
show Europe/Oslo."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")

WEEKDAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
MONTHS = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
          "oktober", "november", "desember"]


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
        raise LocalTimeError(f"Klokken {clock:%H.%M} finnes ikke {format_date(day)} fordi klokken stilles "
                             "fram til sommertid. Velg et annet klokkeslett.")
    if first.utcoffset() != first.replace(fold=1).utcoffset():
        raise LocalTimeError(f"Klokken {clock:%H.%M} finnes to ganger {format_date(day)} fordi klokken stilles "
                             "tilbake. Velg et annet klokkeslett.")
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
