"""Time: store UTC (timezone-aware; SQLModel's UTCDateTime column keeps it so on SQLite and PostgreSQL),
show Europe/Oslo."""

from datetime import UTC, date, datetime
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
