"""Participant lists as CSV and XLSX: the columns in Norwegian, values as the coordinator expects
them, Norwegian letters intact, and no cell a spreadsheet would run as a formula."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from factories import make_event
from openpyxl import load_workbook
from sqlmodel import select

from nettverk.events import queries
from nettverk.events.exports import COLUMNS, export_filename, participants_csv, participants_xlsx
from nettverk.events.models import Registration, RegistrationStatus
from nettverk.registry.models import Municipality, Unit

HEADER = [
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
ATTACKS = ['=HYPERLINK("http://evil")', "@SUM(1)", "+47 cmd", "-2+3", "\t=1+1", "\r=1+1"]


@pytest.fixture
def event(db):
    return make_event(db, "Fagdag om BTI på Rørvik – vår", date(2027, 3, 9), all_day=True)


def _add(db, event, name, status=RegistrationStatus.CONFIRMED, **fields):
    registration = Registration(
        event_id=event.id, name=name, email=fields.pop("email", f"{abs(hash(name))}@x.no"), status=status, **fields
    )
    db.add(registration)
    db.commit()
    return registration


@pytest.fixture
def rows(db, event):
    """A confirmed Norwegian name with everything filled in, a waitlisted person with nothing
    optional, a withdrawn one, and one row per formula attack."""
    indre_fosen = db.exec(select(Municipality).where(Municipality.number == "5054")).one()
    snasa = db.exec(select(Municipality).where(Municipality.number == "5041")).one()
    unit = db.exec(select(Unit).where(Unit.name == "Rissa helsestasjon")).one()
    _add(
        db,
        event,
        "Åse Ødegård Bjørkæng",
        email="ase@indrefosen.kommune.example",
        municipality_id=indre_fosen.id,
        unit_id=unit.id,
        role="Helsesykepleier",
        dietary="Nøtter; skalldyr, «glutenfri»",
        lunch=True,
        attended=True,
        created_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    )  # 01:30 in Oslo (winter time)
    _add(
        db,
        event,
        "Zorro Venteliste",
        status=RegistrationStatus.WAITLISTED,
        email="z@snasa.kommune.example",
        municipality_id=snasa.id,
        lunch=False,
        created_at=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
    )  # 10:00 in Oslo (summer time)
    _add(
        db,
        event,
        "Avmeldt Person",
        status=RegistrationStatus.WITHDRAWN,
        created_at=datetime(2026, 6, 2, 8, 0, tzinfo=UTC),
    )
    for index, attack in enumerate(ATTACKS):
        _add(
            db,
            event,
            attack,
            email=f"angrep{index}@x.no",
            role=attack,
            dietary=attack,
            created_at=datetime(2026, 5, 1, 8, index, tzinfo=UTC),
        )
    return queries.participants(db, event.id)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def read_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def by_name(table, column=0):
    return {row[column]: dict(zip(HEADER, row, strict=True)) for row in table[1:]}


def test_columns_are_the_norwegian_ones(rows):
    assert COLUMNS == HEADER
    assert read_csv(participants_csv(rows))[0] == HEADER
    assert [cell.value for cell in read_xlsx(participants_xlsx(rows))[1]] == HEADER


def test_csv_has_every_participant_with_norwegian_values(rows):
    table = read_csv(participants_csv(rows))
    assert len(table) == 1 + len(rows)
    people = by_name(table)
    assert people["Åse Ødegård Bjørkæng"] == {
        "Navn": "Åse Ødegård Bjørkæng",
        "E-post": "ase@indrefosen.kommune.example",
        "Kommune": "Indre Fosen",
        "Arbeidssted": "Rissa helsestasjon",
        "Stilling": "Helsesykepleier",
        "Status": "Påmeldt",
        "Allergier/spesialkost": "Nøtter; skalldyr, «glutenfri»",
        "Lunsj": "Ja",
        "Møtte": "Ja",
        "Påmeldt": "29.03.2026 01:30",
    }
    assert people["Zorro Venteliste"] == {
        "Navn": "Zorro Venteliste",
        "E-post": "z@snasa.kommune.example",
        "Kommune": "Snåsa (Snåase)",
        "Arbeidssted": "",
        "Stilling": "",
        "Status": "På venteliste",
        "Allergier/spesialkost": "",
        "Lunsj": "Nei",
        "Møtte": "",
        "Påmeldt": "01.06.2026 10:00",
    }
    assert people["Avmeldt Person"]["Status"] == "Avmeldt"
    assert people["Avmeldt Person"]["Lunsj"] == ""


def test_csv_is_semicolon_separated_utf8_with_crlf_lines(rows):
    data = participants_csv(rows)
    first_line = data.split(b"\r\n")[0]
    assert (
        first_line
        == "\ufeffNavn;E-post;Kommune;Arbeidssted;Stilling;Status;Allergier/spesialkost;Lunsj;Møtte;Påmeldt".encode()
    )
    assert "Åse Ødegård Bjørkæng".encode() in data


def test_lists_keep_the_order_of_the_participant_query(rows):
    expected = [registration.name for registration, _, _ in rows]
    assert [row[0] for row in read_csv(participants_csv(rows))[1:]] == [
        "'" + name if name[0] in "=+-@\t\r" else name for name in expected
    ]
    assert expected.index("Zorro Venteliste") > expected.index("Åse Ødegård Bjørkæng")


@pytest.mark.parametrize("attack", ATTACKS)
def test_csv_cells_that_look_like_formulas_get_a_leading_quote(rows, attack):
    person = by_name(read_csv(participants_csv(rows)))["'" + attack]
    assert person["Navn"] == person["Stilling"] == person["Allergier/spesialkost"] == "'" + attack


def test_csv_guard_leaves_ordinary_text_alone(rows):
    people = by_name(read_csv(participants_csv(rows)))
    assert "Åse Ødegård Bjørkæng" in people
    assert not any(cell.startswith("'") for cell in people["Åse Ødegård Bjørkæng"].values())


def test_xlsx_has_every_participant_with_norwegian_values(rows):
    sheet = read_xlsx(participants_xlsx(rows))
    assert sheet.title == "Deltakere"
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(table) == 1 + len(rows)
    people = by_name(table)
    assert people["Åse Ødegård Bjørkæng"] == {
        "Navn": "Åse Ødegård Bjørkæng",
        "E-post": "ase@indrefosen.kommune.example",
        "Kommune": "Indre Fosen",
        "Arbeidssted": "Rissa helsestasjon",
        "Stilling": "Helsesykepleier",
        "Status": "Påmeldt",
        "Allergier/spesialkost": "Nøtter; skalldyr, «glutenfri»",
        "Lunsj": "Ja",
        "Møtte": "Ja",
        "Påmeldt": datetime(2026, 3, 29, 1, 30),
    }
    assert people["Zorro Venteliste"] == {
        "Navn": "Zorro Venteliste",
        "E-post": "z@snasa.kommune.example",
        "Kommune": "Snåsa (Snåase)",
        "Arbeidssted": None,
        "Stilling": None,
        "Status": "På venteliste",
        "Allergier/spesialkost": None,
        "Lunsj": "Nei",
        "Møtte": None,
        "Påmeldt": datetime(2026, 6, 1, 10, 0),
    }


def test_xlsx_header_is_bold_and_frozen_and_columns_are_sized(rows):
    sheet = read_xlsx(participants_xlsx(rows))
    assert all(cell.font.bold for cell in sheet[1])
    assert not any(cell.font.bold for cell in sheet[2])
    assert sheet.freeze_panes == "A2"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJ"}
    assert all(width and width >= len(name) for width, name in zip(widths.values(), HEADER, strict=True))
    assert widths["B"] > len("ase@indrefosen.kommune.example")  # the longest e-mail fits
    assert all(width <= 50 for width in widths.values())
    assert sheet["J2"].number_format == "dd.mm.yyyy hh:mm"


def _as_written(value):
    """XML turns a carriage return into a line feed when the workbook is read back; undo that."""
    return value.replace("\n", "\r") if isinstance(value, str) else value


@pytest.mark.parametrize("attack", ATTACKS)
def test_xlsx_cells_that_look_like_formulas_are_quoted_text(rows, attack):
    sheet = read_xlsx(participants_xlsx(rows))
    people = {_as_written(row[0].value): row for row in sheet.iter_rows(min_row=2)}
    row = people["'" + attack]
    for cell in (row[0], row[4], row[6]):  # Navn, Stilling, Allergier/spesialkost
        assert cell.data_type == "s", f"{cell.coordinate} is stored as {cell.data_type}"
        assert _as_written(cell.value) == "'" + attack
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def test_empty_list_is_just_the_header():
    assert read_csv(participants_csv([])) == [HEADER]
    sheet = read_xlsx(participants_xlsx([]))
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [HEADER]


def test_control_characters_do_not_break_the_workbook(db, event):
    _add(db, event, "Bjørn\x07 Bell", dietary="\x01=cmd")
    sheet = read_xlsx(participants_xlsx(queries.participants(db, event.id)))
    assert sheet["A2"].value == "Bjørn Bell"
    assert sheet["G2"].value == "'=cmd"  # the guard looks at the text as it is written


def test_export_filename_is_ascii_with_the_date(event):
    assert export_filename(event, "xlsx") == "deltakere-fagdag-om-bti-pa-rorvik-var-2027-03-09.xlsx"
    assert export_filename(event, "csv").endswith(".csv")


FULLWIDTH_ATTACKS = [
    '＝HYPERLINK("http://evil")',
    "＋47 cmd",
    "－2＋3",
    "＠SUM(1)",
    "﹦1+1",
    "  =1+1",
    "\u00a0\u200b=1+1",
    "\u3000＝1+1",
    "\u2212 2+3",
    "\n=1+1",
]


def test_fullwidth_and_indented_formula_starts_are_neutralised_in_the_downloaded_csv(db, event, as_role):
    """Through HTTP, as the coordinator downloads it: Excel and LibreOffice read ＝ (U+FF1D) and the other
    fullwidth and small forms as =, and skip leading blanks, so these are formulas too."""
    for index, attack in enumerate(FULLWIDTH_ATTACKS):
        _add(db, event, f"Deltaker {index}", email=f"fw{index}@x.no", role=attack, dietary=attack)
    _add(db, event, "Vanlig Person", role="Miljøterapeut – 50 %", dietary="  ingen")
    response = as_role("coordinator_fosen").get(f"/arrangementer/{event.id}/deltakere.csv")
    assert response.status_code == 200
    people = by_name(read_csv(response.get_data()))
    for index, attack in enumerate(FULLWIDTH_ATTACKS):
        person = people[f"Deltaker {index}"]
        assert person["Stilling"] == person["Allergier/spesialkost"] == "'" + attack
    assert people["Vanlig Person"]["Stilling"] == "Miljøterapeut – 50 %"
    assert people["Vanlig Person"]["Allergier/spesialkost"] == "  ingen"


def test_referral_statistics_csv_uses_the_same_guard():
    """The statistics file is written by the shared table_csv, so a tiltak name starting with ＝ is text."""
    from types import SimpleNamespace

    from nettverk.referrals import statistics_views
    from nettverk.referrals.statistics import COUNTS, MEDIANS, MaskedRow, MaskedTable

    cells = {column: SimpleNamespace(text="<3") for column in COUNTS}
    row = MaskedRow("＝cmd|' /C calc'!A0", cells, dict.fromkeys(MEDIANS, "–"))
    rows = read_csv(statistics_views.statistics_csv_bytes(MaskedTable([row], row), MaskedTable([row], row)))
    assert rows[1][:3] == ["Kommune", "'＝cmd|' /C calc'!A0", "<3"]
