"""Participant lists as CSV and XLSX, for name tags and sign-in sheets, written by nettverk/spreadsheets.py
(safe against formula injection, CSV for Excel in Norway).

`rows` is what queries.participants(session, event_id) returns.
"""

from nettverk.events.models import REGISTRATION_STATUSES, Event, Registration
from nettverk.registry.models import Municipality, Unit
from nettverk.spreadsheets import table_csv, table_xlsx
from nettverk.text import slugify
from nettverk.timeutil import to_oslo

COLUMNS = [
    "Navn",
    "E-post",
    "Kommune",
    "Arbeidssted",
    "Stilling",
    "Status",
    "Allergier/spesialkost",
    "Lunsj",
    "Møtte",
    "Påmeldt",
]

Row = tuple[Registration, Municipality | None, Unit | None]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Ja" if value else "Nei")


def _values(row: Row) -> list:
    """One participant as the columns' values: texts, and the registration time (Oslo, no zone)."""
    registration, municipality, unit = row
    return [
        registration.name,
        registration.email,
        municipality.display_name if municipality else "",
        unit.name if unit else "",
        registration.role,
        REGISTRATION_STATUSES.get(registration.status, registration.status),
        registration.dietary,
        _yes_no(registration.lunch),
        _yes_no(registration.attended),
        to_oslo(registration.created_at).replace(tzinfo=None, microsecond=0),
    ]


def participants_csv(rows: list[Row]) -> bytes:
    """The participant list as CSV for Excel: UTF-8 with BOM, semicolon-separated, CRLF lines."""
    return table_csv(COLUMNS, [_values(row) for row in rows])


def participants_xlsx(rows: list[Row]) -> bytes:
    """The participant list as an Excel workbook (see table_xlsx)."""
    return table_xlsx("Deltakere", COLUMNS, [_values(row) for row in rows])


def export_filename(event: Event, extension: str) -> str:
    """'deltakere-fagdag-om-bti-2026-03-10.xlsx': ASCII only, safe in a Content-Disposition header."""
    slug = slugify(event.title)[:60].strip("-")
    return f"deltakere-{slug}-{to_oslo(event.starts_at):%Y-%m-%d}.{extension}"
