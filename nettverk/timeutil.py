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


def format_date(value: date | datetime | None) -> str:
    """'tirsdag 11. mars 2025'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_oslo(value)
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


def format_span(starts_at: datetime, ends_at: datetime, all_day: bool = False) -> str:
    """'tirsdag 11. mars 2025 kl. 09.00–15.30', or the days of an all-day or multi-day event."""
    start, end = to_oslo(starts_at), to_oslo(ends_at)
    if all_day:
        last = (end - timedelta(days=1)).date()
        if last == start.date():
            return format_date(last)
        return f"{format_date(start.date())} – {format_date(last)}"
    if start.date() == end.date():
        return f"{format_datetime(starts_at)}–{end:%H.%M}"
    return f"{format_datetime(starts_at)} – {format_datetime(ends_at)}"
