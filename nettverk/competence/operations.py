"""Every change to competence areas, records and profiles, with its checks and a change-log line.

Records come from three sources: the person (`self`), a coordinator of the person's base
(`coordinator`) and course attendance (`attendance`, made by `sync_attendance`). An attendance record
carries the event; the unique rule (user, event) makes it one per attendance whatever happens at once.
A person who edits an attendance record takes it over (source becomes `self`), so unmarking the
attendance later no longer removes it.
"""

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.activity import record
from nettverk.competence.models import (
    AREA_KINDS,
    GUIDING_LEVELS,
    LEVELS,
    CompetenceArea,
    CompetenceLevel,
    CompetenceProfile,
    CompetenceRecord,
    RecordSource,
)
from nettverk.errors import OperationError
from nettverk.events.models import EventKind
from nettverk.registry.models import BaseMembership, Municipality, Service
from nettverk.signals import attendance_marked
from nettverk.text import slugify
from nettverk.timeutil import to_oslo, utcnow

EARLIEST = date(1970, 1, 1)
MAX_EXPIRY_YEARS = 30


def today() -> date:
    return to_oslo(utcnow()).date()


# Areas --------------------------------------------------------------------------------------------


@dataclass
class AreaData:
    name: str
    kind: str
    description: str = ""
    target_group: str = ""
    expires_after_months: int | None = None
    active: bool = True


def save_area(
    session: Session, actor_id: int | None, data: AreaData, area: CompetenceArea | None = None
) -> CompetenceArea:
    name = data.name.strip()
    if not name:
        raise OperationError("Skriv navnet på kompetanseområdet.", "name")
    if data.kind not in AREA_KINDS:
        raise OperationError("Velg en type fra listen.", "kind")
    if data.expires_after_months is not None and not 1 <= data.expires_after_months <= 240:
        raise OperationError("Skriv antall måneder mellom 1 og 240, eller la feltet stå tomt.", "expires_after_months")
    same_name = session.exec(select(CompetenceArea).where(CompetenceArea.name == name)).first()
    if same_name is not None and same_name is not area:
        raise OperationError("Det finnes allerede et kompetanseområde med dette navnet.", "name", 409)
    created = area is None
    if created:
        slug = slugify(name)[:70].strip("-") or "omrade"
        taken = set(session.exec(select(CompetenceArea.slug).where(CompetenceArea.slug.startswith(slug))))
        candidate, n = slug, 2
        while candidate in taken:
            candidate, n = f"{slug}-{n}", n + 1
        area = CompetenceArea(slug=candidate, name=name, kind=data.kind)
    area.name, area.kind = name, data.kind
    area.description, area.target_group = data.description.strip(), data.target_group.strip()
    area.expires_after_months, area.active, area.updated_at = data.expires_after_months, data.active, utcnow()
    session.add(area)
    session.flush()
    record(session, actor_id, "competence_area.created" if created else "competence_area.updated", area, area.name)
    return area


# Profiles -----------------------------------------------------------------------------------------


def role_workplace(session: Session, user_id: int) -> tuple[int | None, int | None]:
    """(municipality id, service id) from the person's roles: the service they work in and its host
    municipality, or the municipality they are contact person for."""
    roles = session.exec(
        select(RoleAssignment).where(RoleAssignment.user_id == user_id).order_by(RoleAssignment.id)
    ).all()
    for role in roles:
        if role.service_id is not None:
            service = session.get(Service, role.service_id)
            if service is not None:
                return service.host_municipality_id, service.id
    for role in roles:
        if role.municipality_id is not None:
            return role.municipality_id, None
    return None, None


def ensure_profile(session: Session, user_id: int, municipality_id: int | None = None) -> CompetenceProfile:
    """The person's profile, made when missing (not contactable; workplace from the roles, else the
    municipality given, e.g. the one they registered for a course with)."""
    profile = session.get(CompetenceProfile, user_id)
    if profile is None:
        role_municipality, service_id = role_workplace(session, user_id)
        profile = CompetenceProfile(
            user_id=user_id, municipality_id=role_municipality or municipality_id, service_id=service_id
        )
        session.add(profile)
        session.flush()
    elif profile.municipality_id is None and municipality_id is not None:
        profile.municipality_id = municipality_id
        session.add(profile)
    return profile


def save_profile(
    session: Session, user: User, contactable: bool, municipality_id: int | None, service_id: int | None
) -> CompetenceProfile:
    if municipality_id is not None:
        municipality = session.get(Municipality, municipality_id)
        if municipality is None or not municipality.is_current:
            raise OperationError("Velg en kommune fra listen.", "municipality_id")
    if service_id is not None and session.get(Service, service_id) is None:
        raise OperationError("Velg en tjeneste fra listen.", "service_id")
    profile = session.get(CompetenceProfile, user.id) or CompetenceProfile(user_id=user.id)
    profile.contactable, profile.municipality_id, profile.service_id = contactable, municipality_id, service_id
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    record(
        session, user.id, "competence_profile.updated", user, "kan kontaktes" if contactable else "vises ikke med navn"
    )
    return profile


# Records ------------------------------------------------------------------------------------------


@dataclass
class RecordData:
    area_id: int | None
    level: str
    achieved_on: date | None
    issued_by: str = ""
    expires_on: date | None = None


def default_expiry(area: CompetenceArea, level: str, achieved_on: date) -> date | None:
    """A certification in an area that expires runs out after the area's months; other levels do not."""
    if area.expires_after_months and level in GUIDING_LEVELS:
        return achieved_on + relativedelta(months=area.expires_after_months)
    return None


def _checked(session: Session, data: RecordData, current_area_id: int | None = None) -> CompetenceArea:
    """The chosen area, after checking the record; a retired area only for a record that already has it."""
    area = session.get(CompetenceArea, data.area_id) if data.area_id is not None else None
    if area is None or not (area.active or area.id == current_area_id):
        raise OperationError("Velg et kompetanseområde fra listen.", "area_id")
    if data.level not in LEVELS:
        raise OperationError("Velg et nivå fra listen.", "level")
    if data.achieved_on is None:
        raise OperationError("Skriv datoen for opplæringen eller sertifiseringen.", "achieved_on")
    if not EARLIEST <= data.achieved_on <= today():
        raise OperationError("Datoen kan ikke være fram i tid eller før 1970.", "achieved_on")
    if data.expires_on is not None:
        if data.expires_on < data.achieved_on:
            raise OperationError("Utløpsdatoen kan ikke være før datoen for opplæringen.", "expires_on")
        if data.expires_on.year > data.achieved_on.year + MAX_EXPIRY_YEARS:
            raise OperationError(f"Utløpsdatoen kan være høyst {MAX_EXPIRY_YEARS} år etter opplæringen.", "expires_on")
    if len(data.issued_by) > 200:
        raise OperationError("Skriv høyst 200 tegn.", "issued_by")
    return area


def add_record(
    session: Session, actor_id: int, user_id: int, data: RecordData, source: str = RecordSource.SELF
) -> CompetenceRecord:
    area = _checked(session, data)
    ensure_profile(session, user_id)
    row = CompetenceRecord(
        user_id=user_id,
        area_id=area.id,
        level=data.level,
        achieved_on=data.achieved_on,
        issued_by=data.issued_by.strip(),
        source=source,
        recorded_by_id=actor_id,
        expires_on=data.expires_on or default_expiry(area, data.level, data.achieved_on),
    )
    session.add(row)
    session.flush()
    record(session, actor_id, "competence_record.created", row, f"{area.name}, {LEVELS[data.level]}")
    return row


def update_record(session: Session, actor_id: int, row: CompetenceRecord, data: RecordData) -> CompetenceRecord:
    area = _checked(session, data, row.area_id)
    row.area_id, row.level, row.achieved_on = area.id, data.level, data.achieved_on
    row.issued_by = data.issued_by.strip()
    row.expires_on = data.expires_on or default_expiry(area, data.level, data.achieved_on)
    row.source, row.updated_at = RecordSource.SELF, utcnow()  # the person has taken the record over
    session.add(row)
    session.flush()
    record(session, actor_id, "competence_record.updated", row, f"{area.name}, {LEVELS[data.level]}")
    return row


def delete_record(session: Session, actor_id: int, row: CompetenceRecord) -> None:
    record(session, actor_id, "competence_record.deleted", row, f"område {row.area_id}")
    session.delete(row)
    session.flush()


def person_for_base(session: Session, email: str, base_id: int, municipality_id: int | None) -> User:
    """The person a coordinator records for: an account whose municipality is in the coordinator's base.
    A person without a municipality yet gets the one the coordinator chooses (a member of the base)."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        raise OperationError("Vi fant ingen aktiv bruker med den e-postadressen. Inviter personen først.", "email")
    members = set(session.exec(select(BaseMembership.municipality_id).where(BaseMembership.base_id == base_id)))
    if municipality_id is not None and municipality_id not in members:
        raise OperationError("Velg en kommune i kompetansebasen.", "municipality_id")
    profile = ensure_profile(session, user.id)
    if profile.municipality_id is None:
        if municipality_id is None:
            raise OperationError(
                "Personen har ikke oppgitt kommune. Velg kommunen personen jobber i.", "municipality_id"
            )
        profile.municipality_id = municipality_id
        session.add(profile)
    elif profile.municipality_id not in members:
        raise OperationError("Personen jobber ikke i en kommune i denne kompetansebasen.", "email", 403)
    return user


# Attendance ---------------------------------------------------------------------------------------

ATTENDANCE_LEVEL = CompetenceLevel.TRAINED


def sync_attendance(session: Session, actor_id: int | None, event, newly_attended: list, unattended: list) -> int:
    """Course attendance as training records, when the event is a kurs linked to an area.

    `newly_attended`: registrations just marked as attended (not before), `unattended`: those just marked
    as not attended. Each newly attended person with an account gets one record (level opplært, source
    attendance); the unique rule (user, event) makes a second one impossible, also when two coordinators
    save at once. Unmarking removes the attendance record unless the person has taken it over. Marking a
    list again changes nothing for those already marked, so a record the person deleted stays deleted.
    Returns how many records were created."""
    if event.kind != EventKind.KURS or event.competence_area_id is None:
        return 0
    area = session.get(CompetenceArea, event.competence_area_id)
    if area is None:
        return 0
    created = 0
    achieved_on = to_oslo(event.starts_at).date()
    for registration in newly_attended:
        user_id = _account_of(session, registration)
        if user_id is None:
            continue
        if session.exec(
            select(CompetenceRecord.id).where(
                CompetenceRecord.user_id == user_id, CompetenceRecord.event_id == event.id
            )
        ).first():
            continue
        try:
            with session.begin_nested():
                ensure_profile(session, user_id, registration.municipality_id)
                session.add(
                    CompetenceRecord(
                        user_id=user_id,
                        area_id=area.id,
                        level=ATTENDANCE_LEVEL,
                        achieved_on=achieved_on,
                        issued_by=event.title[:200],
                        source=RecordSource.ATTENDANCE,
                        event_id=event.id,
                        recorded_by_id=actor_id,
                        expires_on=default_expiry(area, ATTENDANCE_LEVEL, achieved_on),
                    )
                )
                session.flush()
        except IntegrityError:  # someone else made it at the same moment
            continue
        created += 1
    for registration in unattended:
        user_id = _account_of(session, registration)
        if user_id is None:
            continue
        for row in session.exec(
            select(CompetenceRecord).where(
                CompetenceRecord.user_id == user_id,
                CompetenceRecord.event_id == event.id,
                CompetenceRecord.source == RecordSource.ATTENDANCE,
            )
        ):
            session.delete(row)
    session.flush()
    if created:
        record(session, actor_id, "competence_record.from_attendance", event, f"{created} på {area.name}")
    return created


@attendance_marked.connect
def _records_from_attendance(event, *, session, actor_id, newly_attended, unattended) -> None:
    """events.operations.mark_attendance tells us (nettverk/signals.py): events does not import competence."""
    sync_attendance(session, actor_id, event, newly_attended, unattended)


def _account_of(session: Session, registration) -> int | None:
    """The account behind a registration: its user, or the account with the (confirmed) e-mail address."""
    if registration.user_id is not None:
        return registration.user_id
    return session.exec(select(User.id).where(User.email == registration.email, User.is_active)).first()
