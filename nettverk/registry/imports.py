"""All-or-nothing CSV import of registry data: municipalities, base memberships, services, contacts.

The whole file is read and every row checked first, so the report lists every problem at once.
Only a file without problems is applied, row by row through registry.operations (which check
again and write the activity log) inside a SAVEPOINT; if an operation still refuses a row, the
savepoint is rolled back and nothing of the file is kept.

Importing the same file twice changes nothing the second time: a row whose object exists is an
update (or counted as unchanged), never a duplicate. An optional column that is left out of the
file keeps the stored value; a column that is present but empty clears it.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from nettverk.activity import record
from nettverk.errors import OperationError
from nettverk.registry import operations
from nettverk.registry.models import (
    SERVICE_KINDS,
    BaseMembership,
    CompetenceBase,
    Contact,
    County,
    Municipality,
    Service,
    ServiceArea,
)

MAX_ROWS = 20_000

# kind -> (Norwegian label, required columns, optional columns)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "municipalities": ("Kommuner", ("kommunenummer", "navn", "fylkesnummer"), ("samisk_navn",)),
    "memberships": ("Medlemskap i kompetansebaser", ("kompetansebase", "kommunenummer"), ()),
    "services": ("Tjenester", ("navn", "type", "vertskommune", "betjener"), ("epost", "telefon")),
    "contacts": ("Kontaktpersoner", ("kommunenummer", "navn"), ("rolle", "epost", "telefon", "tjeneste")),
}

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "seeds" / "examples"


def example_path(kind: str) -> Path:
    """The sample CSV file for a kind (seeds/examples/<kind>.csv), a template for admins."""
    if kind not in KINDS:
        raise KeyError(kind)
    return EXAMPLES_DIR / f"{kind}.csv"


@dataclass
class ImportProblem:
    """One problem in the file. `line` is the CSV line (the header is line 1), None for the whole file."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"Linje {self.line}: {self.message}" if self.line is not None else self.message


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        """One Norwegian sentence for a flash message."""
        label = KINDS.get(self.kind, (self.kind,))[0]
        if not self.ok:
            return f"{label}: filen har {len(self.errors)} feil og ble ikke importert. Ingenting er lagret."
        return (
            f"{label}: {self.rows} {'rad' if self.rows == 1 else 'rader'} importert – "
            f"{self.created} {'ny' if self.created == 1 else 'nye'}, {self.updated} endret, "
            f"{self.unchanged} uendret."
        )


class _RowProblems(Exception):
    """The Norwegian reasons one row cannot be imported."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


_Checked = dict[str, Any]  # one row's checked values, ready for its operation


@dataclass
class _Row:
    line: int
    values: dict[str, str]  # column -> trimmed value, only for columns in the file


def import_csv(session: Session, actor_id: int | None, kind: str, data: bytes) -> ImportReport:
    """Import `data` (a CSV file) of `kind` (a key of KINDS); all rows or none.

    Returns a report; when `report.ok` is false nothing was written. The caller commits.
    """
    report = ImportReport(kind=kind)
    if kind not in KINDS:
        report.errors.append(ImportProblem(None, f"Ukjent type import «{kind}»."))
        return report
    rows = _read(data, kind, report)
    if rows is None:
        return report

    registry = _Registry(session)
    check, apply = _HANDLERS[kind]
    plan: list[tuple[int, _Checked]] = []
    for row in rows:
        try:
            plan.append((row.line, check(registry, row.values)))
        except _RowProblems as problems:
            report.errors.extend(ImportProblem(row.line, message) for message in problems.messages)
    if not report.ok:
        return report

    _apply(session, actor_id, registry, apply, plan, report)
    return report


# Reading the file ---------------------------------------------------------------------------------


def _read(data: bytes, kind: str, report: ImportReport) -> list[_Row] | None:
    """Decode and parse the file and check its header; problems go to `report.errors`.

    None means the rows cannot be checked at all (not UTF-8, no rows, a bad header, too many rows).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append(
            ImportProblem(
                1,
                "Filen er ikke lagret som UTF-8. Lagre den som «CSV UTF-8» i "
                "Excel, eller velg UTF-8 som tegnsett, og prøv igjen.",
            )
        )
        return None
    if "\x00" in text:  # PostgreSQL refuses NUL in text; a file with it is no CSV anyway
        line = text[: text.index("\x00")].count("\n") + 1
        report.errors.append(
            ImportProblem(line, "Filen inneholder et ugyldig tegn (NUL). Lagre den som CSV og prøv igjen.")
        )
        return None

    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    header: list[str] | None = None
    header_line = 1
    rows: list[_Row] = []
    line = 1
    try:
        for fields in reader:
            start, line = line, reader.line_num + 1  # a quoted value may span several lines
            if not any(value.strip() for value in fields):
                continue
            if header is None:
                header, header_line = [_column_name(name) for name in fields], start
                continue
            if len(rows) == MAX_ROWS:
                limit = f"{MAX_ROWS:,}".replace(",", " ")
                report.errors.append(
                    ImportProblem(
                        None,
                        f"Filen har mer enn {limit} rader. Del den opp i flere filer og importer dem hver for seg.",
                    )
                )
                return None
            rows.append(_row(header, fields, start, report))
    except csv.Error:
        report.errors.append(
            ImportProblem(
                line, "Linjen kan ikke leses som CSV. Sjekk at filen er en tekstfil (ikke et Excel-ark) lagret som CSV."
            )
        )
        return None

    report.rows = len(rows)
    if header is None or not rows:
        report.errors[:] = [ImportProblem(None, "Filen inneholder ingen rader.")]
        return None
    if not _check_header(header, header_line, kind, report):
        return None
    return rows


def _column_name(name: str) -> str:
    """'Samisk navn ' -> 'samisk_navn'."""
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _row(header: list[str], fields: list[str], line: int, report: ImportReport) -> _Row:
    if len(fields) > len(header):
        extra = [value for value in fields[len(header) :] if value.strip()]
        if extra:
            report.errors.append(
                ImportProblem(line, f"Raden har {len(fields)} felt, men overskriften har bare {len(header)} kolonner.")
            )
    values = {}
    for index, name in enumerate(header):
        value = fields[index].strip() if index < len(fields) else ""
        if name:
            values[name] = value
        elif value:
            report.errors.append(
                ImportProblem(line, f"Kolonne nummer {index + 1} har en verdi («{value}»), men ingen overskrift.")
            )
    return _Row(line, values)


def _check_header(header: list[str], line: int, kind: str, report: ImportReport) -> bool:
    _label, required, optional = KINDS[kind]
    allowed = required + optional
    named = [name for name in header if name]
    problems = []
    for name in dict.fromkeys(named):
        if name not in allowed:
            problems.append(f"Ukjent kolonne «{name}». Tillatte kolonner er: {', '.join(allowed)}.")
        elif named.count(name) > 1:
            problems.append(f"Kolonnen «{name}» står flere ganger i overskriften.")
    for name in required:
        if name not in named:
            problems.append(f"Kolonnen «{name}» mangler. Påkrevde kolonner er: {', '.join(required)}.")
    # Header problems make every row meaningless: report only them.
    if problems:
        report.errors[:] = [ImportProblem(line, message) for message in problems]
    return not problems


# What the rows refer to ---------------------------------------------------------------------------


class _Registry:
    """The registry rows an import refers to, read once and kept current while rows are applied."""

    def __init__(self, session: Session):
        self.session = session

    @cached_property
    def counties(self) -> dict[str, County]:
        return {c.number: c for c in self.session.exec(select(County))}

    @cached_property
    def municipalities(self) -> dict[str, Municipality]:
        return {m.number: m for m in self.session.exec(select(Municipality))}

    @cached_property
    def bases(self) -> dict[str, CompetenceBase]:
        found = {}
        for base in self.session.exec(select(CompetenceBase)):
            found[base.slug.casefold()] = base
            found[base.name.strip().casefold()] = base
        return found

    @cached_property
    def memberships(self) -> set[tuple[int, int]]:
        return set(self.session.exec(select(BaseMembership.base_id, BaseMembership.municipality_id)))

    @cached_property
    def services(self) -> list[Service]:
        return list(self.session.exec(select(Service).order_by(Service.id)))

    @cached_property
    def service_areas(self) -> dict[int, set[int]]:
        areas: dict[int, set[int]] = {}
        for service_id, municipality_id in self.session.exec(
            select(ServiceArea.service_id, ServiceArea.municipality_id)
        ):
            areas.setdefault(service_id, set()).add(municipality_id)
        return areas

    @cached_property
    def contacts(self) -> dict[tuple[int, str], Contact]:
        found = {}
        for contact in self.session.exec(select(Contact).order_by(Contact.id)):
            found.setdefault((contact.municipality_id, contact.name.casefold()), contact)
        return found

    def service_by_name_and_host(self, name: str, host_id: int) -> Service | None:
        key = name.casefold()
        matches = (s for s in self.services if s.host_municipality_id == host_id and s.name.casefold() == key)
        return next(matches, None)


# Checking values (each appends Norwegian reasons to `problems`) -----------------------------------


def _number(value: str, digits: int) -> str | None:
    """A municipality (4) or county (2) number; Excel's lost leading zero (301 for 0301) is put back."""
    if re.fullmatch(r"[0-9]+", value) and len(value) == digits - 1:
        value = "0" + value
    return value if re.fullmatch(rf"[0-9]{{{digits}}}", value) else None


def _required(values: dict[str, str], column: str, max_length: int, problems: list[str]) -> str:
    value = values.get(column, "")
    if not value:
        problems.append(f"Feltet «{column}» er tomt.")
    return _limited(value, column, max_length, problems)


def _limited(value: str, column: str, max_length: int, problems: list[str]) -> str:
    if len(value) > max_length:
        problems.append(f"«{column}» kan være høyst {max_length} tegn, men er {len(value)}.")
    return value


def _municipality(registry: _Registry, value: str, column: str, problems: list[str]) -> Municipality | None:
    """An existing, current municipality given by its number."""
    number = _number(value, 4)
    if not value:
        problems.append(f"Feltet «{column}» er tomt.")
        return None
    if number is None:
        what = "fire sifre" if column == "kommunenummer" else "et kommunenummer med fire sifre"
        problems.append(f"{column.capitalize()} «{value}» må være {what}.")
        return None
    municipality = registry.municipalities.get(number)
    if municipality is None:
        problems.append(f"Kommunenummer {number} finnes ikke i registeret. Importer kommunen først.")
        return None
    if not municipality.is_current:
        problems.append(
            f"{municipality.name} ({number}) ble avviklet {municipality.valid_to:%d.%m.%Y}. "
            "Bruk kommunen den ble slått sammen til."
        )
        return None
    return municipality


def _email(values: dict[str, str], problems: list[str]) -> str | None:
    value = values.get("epost", "")
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        problems.append(f"E-postadressen «{value}» er ikke gyldig. Skriv den som navn@kommune.no.")
        return None


def _phone(values: dict[str, str], problems: list[str]) -> str | None:
    value = values.get("telefon", "")
    if value and (len(value) > 30 or not re.fullmatch(r"\+?[0-9][0-9 ().-]*", value)):
        problems.append(f"Telefon «{value}» ser ikke ut som et telefonnummer (bare sifre, mellomrom og +).")
    return value or None


def _optional(values: dict[str, str], checked: _Checked, column: str, key: str, value: Any) -> None:
    """Carry an optional column only when the file has it, so a missing column keeps the stored value."""
    if column in values:
        checked[key] = value


def _done(problems: list[str], checked: _Checked) -> _Checked:
    if problems:
        raise _RowProblems(problems)
    return checked


# Municipalities -----------------------------------------------------------------------------------


def _check_municipality(registry: _Registry, values: dict[str, str]) -> _Checked:
    problems: list[str] = []
    raw_number = values.get("kommunenummer", "")
    number = _number(raw_number, 4)
    if number is None:
        problems.append(f"Kommunenummer «{raw_number}» må være fire sifre.")
    name = _required(values, "navn", 100, problems)
    sami_name = _limited(values.get("samisk_navn", ""), "samisk_navn", 100, problems) or None
    raw_county = values.get("fylkesnummer", "")
    county_number = _number(raw_county, 2)
    county = registry.counties.get(county_number or "")
    if county_number is None:
        problems.append(f"Fylkesnummer «{raw_county}» må være to sifre, for eksempel 50.")
    elif county is None:
        problems.append(f"Fylke {county_number} finnes ikke i registeret. Opprett fylket først.")
    checked = {"number": number, "name": name, "county": county}
    _optional(values, checked, "samisk_navn", "sami_name", sami_name)
    return _done(problems, checked)


def _apply_municipality(session: Session, actor_id: int | None, registry: _Registry, row: _Checked) -> str:
    existing = registry.municipalities.get(row["number"])
    sami_name = row.get("sami_name", existing.sami_name if existing else None)
    if existing is not None and (existing.name, existing.sami_name, existing.county_id) == (
        row["name"],
        sami_name,
        row["county"].id,
    ):
        return "unchanged"
    municipality = operations.save_municipality(
        session, actor_id, row["number"], row["name"], row["county"].id, sami_name=sami_name, municipality=existing
    )
    registry.municipalities[municipality.number] = municipality
    return "updated" if existing is not None else "created"


# Memberships --------------------------------------------------------------------------------------


def _check_membership(registry: _Registry, values: dict[str, str]) -> _Checked:
    problems: list[str] = []
    base_name = values.get("kompetansebase", "")
    base = registry.bases.get(base_name.casefold())
    if not base_name:
        problems.append("Feltet «kompetansebase» er tomt.")
    elif base is None:
        known = sorted({b.name for b in registry.bases.values()})
        hint = f" Kjente kompetansebaser: {', '.join(known)}." if known and len(known) <= 20 else ""
        problems.append(f"Kompetansebasen «{base_name}» finnes ikke.{hint}")
    municipality = _municipality(registry, values.get("kommunenummer", ""), "kommunenummer", problems)
    return _done(problems, {"base": base, "municipality": municipality})


def _apply_membership(session: Session, actor_id: int | None, registry: _Registry, row: _Checked) -> str:
    key = (row["base"].id, row["municipality"].id)
    if key in registry.memberships:
        return "unchanged"
    operations.add_member(session, actor_id, row["base"], row["municipality"].id)
    registry.memberships.add(key)
    return "created"


# Services -----------------------------------------------------------------------------------------


def _service_kind(value: str) -> str | None:
    wanted = value.strip().casefold()
    return next((key for key, label in SERVICE_KINDS.items() if wanted in (key, label.casefold())), None)


def _check_service(registry: _Registry, values: dict[str, str]) -> _Checked:
    problems: list[str] = []
    name = _required(values, "navn", 160, problems)
    kind = _service_kind(values.get("type", ""))
    if not values.get("type"):
        problems.append("Feltet «type» er tomt.")
    elif kind is None:
        problems.append(
            f"Type «{values.get('type', '')}» er ukjent. Bruk en av: {', '.join(SERVICE_KINDS)} "
            "(eller navnet, for eksempel «Barneverntjeneste»)."
        )
    host = _municipality(registry, values.get("vertskommune", ""), "vertskommune", problems)
    served = []
    for number in re.split(r"[\s,|]+", values.get("betjener", "")):
        if number:
            municipality = _municipality(registry, number, "betjener", problems)
            if municipality is not None and all(m.id != municipality.id for m in served):
                served.append(municipality)
    checked = {"name": name, "kind": kind, "host": host, "served": served}
    _optional(values, checked, "epost", "email", _email(values, problems))
    _optional(values, checked, "telefon", "phone", _phone(values, problems))
    return _done(problems, checked)


def _apply_service(session: Session, actor_id: int | None, registry: _Registry, row: _Checked) -> str:
    host = row["host"]
    existing = registry.service_by_name_and_host(row["name"], host.id)
    served_ids = {host.id} | {m.id for m in row["served"]}
    email = row.get("email", existing.email if existing else None)
    phone = row.get("phone", existing.phone if existing else None)
    if (
        existing is not None
        and (existing.name, existing.kind, existing.email, existing.phone) == (row["name"], row["kind"], email, phone)
        and registry.service_areas.get(existing.id) == served_ids
    ):
        return "unchanged"
    service = operations.save_service(
        session,
        actor_id,
        row["name"],
        row["kind"],
        host.id,
        sorted(served_ids),
        email=email,
        phone=phone,
        description=existing.description if existing else "",
        service=existing,
    )
    if existing is None:
        registry.services.append(service)
    registry.service_areas[service.id] = served_ids
    return "updated" if existing is not None else "created"


# Contacts -----------------------------------------------------------------------------------------


def _find_service(
    registry: _Registry, value: str, municipality: Municipality | None, problems: list[str]
) -> Service | None:
    """A service by slug or name; a name shared by several is narrowed to those serving the municipality."""
    wanted = value.casefold()
    by_slug = next((s for s in registry.services if s.slug == wanted), None)
    if by_slug is not None:
        return by_slug
    matches = [s for s in registry.services if s.name.casefold() == wanted]
    if len(matches) > 1 and municipality is not None:
        serving = [s for s in matches if municipality.id in registry.service_areas.get(s.id, set())]
        matches = serving or matches
    if len(matches) == 1:
        return matches[0]
    if not matches:
        problems.append(f"Tjenesten «{value}» finnes ikke. Skriv navnet eller kortnavnet (slug) til tjenesten.")
    else:
        slugs = ", ".join(s.slug for s in matches)
        problems.append(f"Flere tjenester heter «{value}». Skriv kortnavnet (slug) i stedet: {slugs}.")
    return None


def _check_contact(registry: _Registry, values: dict[str, str]) -> _Checked:
    problems: list[str] = []
    municipality = _municipality(registry, values.get("kommunenummer", ""), "kommunenummer", problems)
    name = _required(values, "navn", 160, problems)
    checked: _Checked = {"municipality": municipality, "name": name}
    _optional(values, checked, "rolle", "role", _limited(values.get("rolle", ""), "rolle", 160, problems))
    _optional(values, checked, "epost", "email", _email(values, problems))
    _optional(values, checked, "telefon", "phone", _phone(values, problems))
    if values.get("tjeneste"):
        checked["service"] = _find_service(registry, values["tjeneste"], municipality, problems)
    elif "tjeneste" in values:
        checked["service"] = None
    return _done(problems, checked)


def _apply_contact(session: Session, actor_id: int | None, registry: _Registry, row: _Checked) -> str:
    municipality = row["municipality"]
    key = (municipality.id, row["name"].casefold())
    existing = registry.contacts.get(key)
    role = row.get("role", existing.role if existing else "")
    email = row.get("email", existing.email if existing else None)
    phone = row.get("phone", existing.phone if existing else None)
    service_id = row["service"].id if row.get("service") else None
    if "service" not in row and existing is not None:
        service_id = existing.service_id
    if existing is not None and (existing.name, existing.role, existing.email, existing.phone, existing.service_id) == (
        row["name"],
        role,
        email,
        phone,
        service_id,
    ):
        return "unchanged"
    contact = operations.save_contact(
        session,
        actor_id,
        municipality,
        row["name"],
        role=role,
        email=email,
        phone=phone,
        service_id=service_id,
        contact=existing,
    )
    registry.contacts[key] = contact
    return "updated" if existing is not None else "created"


_HANDLERS = {
    "municipalities": (_check_municipality, _apply_municipality),
    "memberships": (_check_membership, _apply_membership),
    "services": (_check_service, _apply_service),
    "contacts": (_check_contact, _apply_contact),
}


# Applying -----------------------------------------------------------------------------------------


def _apply(
    session: Session,
    actor_id: int | None,
    registry: _Registry,
    apply,
    plan: list[tuple[int, _Checked]],
    report: ImportReport,
) -> None:
    """Apply the checked rows inside a savepoint; keep all of them or none."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    savepoint = session.begin_nested()
    line = None
    try:
        for line, row in plan:
            try:
                counts[apply(session, actor_id, registry, row)] += 1
            except OperationError as error:
                report.errors.append(ImportProblem(line, error.message))
    except SQLAlchemyError:
        savepoint.rollback()
        report.errors.append(
            ImportProblem(
                line, "Raden kunne ikke lagres på grunn av en feil i databasen. Ingenting fra filen er lagret."
            )
        )
        return
    except BaseException:
        savepoint.rollback()
        raise
    if not report.ok:
        savepoint.rollback()
        return
    savepoint.commit()
    report.created, report.updated, report.unchanged = (counts["created"], counts["updated"], counts["unchanged"])
    if report.created or report.updated:
        record(session, actor_id, "registry.imported", report, report.summary)
