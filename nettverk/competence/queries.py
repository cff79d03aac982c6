"""Read side of competence: the catalogue, a person's records, the base matrix, the search for people who
can guide, and certifications about to expire.

Privacy: aggregates (the matrix, counts of hidden people) count every valid record of an active person.
Anything that names a person returns only people whose profile is `contactable`, except the person's own
records. A record is valid on a day when it has no expiry or expires that day or later; only active
accounts count.
"""

from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, or_
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.competence.models import (
    AREA_KINDS,
    LEVELS,
    CompetenceArea,
    CompetenceLevel,
    CompetenceProfile,
    CompetenceRecord,
)
from nettverk.events.models import Event
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Service
from nettverk.text import norwegian_key

EXPIRY_WINDOW_MONTHS = 6
SINGLE = 1  # one person is a single point of failure
DEFAULT_MIN_LEVEL = CompetenceLevel.TRAINED


def levels_from(min_level: str) -> list[str]:
    """The levels at or above `min_level` (LEVELS is ordered from lowest to highest)."""
    keys = list(LEVELS)
    return keys[keys.index(min_level) :] if min_level in LEVELS else keys


def valid_on(day: date):
    return or_(CompetenceRecord.expires_on.is_(None), CompetenceRecord.expires_on >= day)


# Catalogue ----------------------------------------------------------------------------------------


def areas(session: Session, kind: str | None = None, include_inactive: bool = False) -> list[CompetenceArea]:
    query = select(CompetenceArea)
    if kind:
        query = query.where(CompetenceArea.kind == kind)
    if not include_inactive:
        query = query.where(CompetenceArea.active)
    return sorted(session.exec(query), key=lambda a: norwegian_key(a.name))


def area_choices(session: Session, keep_id: int | None = None) -> list[tuple[int, str]]:
    """Active areas for a select, plus the one already chosen even if it was retired since."""
    chosen = areas(session, include_inactive=True)
    return [(a.id, a.name) for a in chosen if a.active or a.id == keep_id]


def area_by_slug(session: Session, slug: str) -> CompetenceArea | None:
    return session.exec(select(CompetenceArea).where(CompetenceArea.slug == slug)).first()


# A person's own records ---------------------------------------------------------------------------


@dataclass
class OwnRecord:
    record: CompetenceRecord
    area: CompetenceArea
    event: Event | None
    valid: bool


def own_records(session: Session, user_id: int, today: date) -> list[OwnRecord]:
    rows = session.exec(
        select(CompetenceRecord, CompetenceArea, Event)
        .join(CompetenceArea, CompetenceArea.id == CompetenceRecord.area_id)
        .outerjoin(Event, Event.id == CompetenceRecord.event_id)
        .where(CompetenceRecord.user_id == user_id)
        .order_by(CompetenceRecord.achieved_on.desc(), CompetenceRecord.id.desc())
    ).all()
    return [OwnRecord(r, a, e, r.expires_on is None or r.expires_on >= today) for r, a, e in rows]


# Bases --------------------------------------------------------------------------------------------


def member_municipalities(session: Session, base_id: int) -> list[Municipality]:
    rows = session.exec(
        select(Municipality)
        .join(BaseMembership, BaseMembership.municipality_id == Municipality.id)
        .where(BaseMembership.base_id == base_id)
    )
    return sorted(rows, key=lambda m: norwegian_key(m.name))


def bases_of_person(session: Session, user_id: int) -> list[CompetenceBase]:
    """The bases holding the municipality the person works in (their profile)."""
    profile = session.get(CompetenceProfile, user_id)
    if profile is None or profile.municipality_id is None:
        return []
    rows = session.exec(
        select(CompetenceBase)
        .join(BaseMembership, BaseMembership.base_id == CompetenceBase.id)
        .where(BaseMembership.municipality_id == profile.municipality_id)
    )
    return sorted(rows, key=lambda b: norwegian_key(b.name))


# The matrix ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    count: int

    @property
    def mark(self) -> str:
        """The words that say why a cell stands out (colour is only an addition)."""
        return "ingen" if self.count == 0 else ("sårbar" if self.count == SINGLE else "")

    @property
    def text(self) -> str:
        return f"{self.count} ({self.mark})" if self.mark else str(self.count)


@dataclass
class Matrix:
    municipalities: list[Municipality]
    areas: list[CompetenceArea]
    counts: dict[tuple[int, int], int] = field(default_factory=dict)

    def cell(self, municipality_id: int, area_id: int) -> Cell:
        return Cell(self.counts.get((municipality_id, area_id), 0))

    def total(self, area_id: int) -> Cell:
        """People in the whole base (each person works in one municipality, so the sum counts each once)."""
        return Cell(sum(self.counts.get((m.id, area_id), 0) for m in self.municipalities))

    def rows(self):
        for municipality in self.municipalities:
            yield municipality, [self.cell(municipality.id, a.id) for a in self.areas]

    def totals(self) -> list[Cell]:
        return [self.total(a.id) for a in self.areas]


@dataclass
class MatrixFilter:
    service_kind: str = ""
    area_kind: str = ""
    min_level: str = DEFAULT_MIN_LEVEL


def matrix(session: Session, base: CompetenceBase, today: date, chosen: MatrixFilter) -> Matrix:
    """Municipalities of the base × active areas: how many active people working in each municipality
    (their profile) hold a valid record at `min_level` or above, from the service kind if one is chosen."""
    municipalities = member_municipalities(session, base.id)
    shown_areas = areas(session, kind=chosen.area_kind or None)
    result = Matrix(municipalities, shown_areas)
    if not municipalities or not shown_areas:
        return result
    query = (
        select(
            CompetenceProfile.municipality_id,
            CompetenceRecord.area_id,
            func.count(func.distinct(CompetenceRecord.user_id)),
        )
        .join(CompetenceProfile, CompetenceProfile.user_id == CompetenceRecord.user_id)
        .join(User, User.id == CompetenceRecord.user_id)
        .where(
            User.is_active,
            valid_on(today),
            CompetenceRecord.level.in_(levels_from(chosen.min_level)),
            CompetenceProfile.municipality_id.in_([m.id for m in municipalities]),
            CompetenceRecord.area_id.in_([a.id for a in shown_areas]),
        )
        .group_by(CompetenceProfile.municipality_id, CompetenceRecord.area_id)
    )
    if chosen.service_kind:
        query = query.join(Service, Service.id == CompetenceProfile.service_id).where(
            Service.kind == chosen.service_kind
        )
    result.counts = {(m_id, a_id): n for m_id, a_id, n in session.exec(query)}
    return result


# Search: who can guide in an area ---------------------------------------------------------------


@dataclass
class Guide:
    name: str
    email: str
    municipality: Municipality | None
    service: Service | None
    level: str
    achieved_on: date
    expires_on: date | None


def guides(
    session: Session, area: CompetenceArea, municipality_ids: set[int] | None, min_level: str, today: date
) -> tuple[list[Guide], int]:
    """(the people who opted in to be found, with their best valid record in the area; how many more hold
    such a record but did not opt in). `municipality_ids` None means the whole region."""
    query = (
        select(CompetenceRecord, User, CompetenceProfile)
        .join(User, User.id == CompetenceRecord.user_id)
        .join(CompetenceProfile, CompetenceProfile.user_id == CompetenceRecord.user_id)
        .where(
            CompetenceRecord.area_id == area.id,
            User.is_active,
            valid_on(today),
            CompetenceRecord.level.in_(levels_from(min_level)),
        )
    )
    if municipality_ids is not None:
        query = query.where(CompetenceProfile.municipality_id.in_(municipality_ids or {-1}))
    order = list(LEVELS)
    best: dict[int, tuple[CompetenceRecord, User, CompetenceProfile]] = {}
    for row, user, profile in session.exec(query):
        known = best.get(user.id)
        if known is None or order.index(row.level) > order.index(known[0].level):
            best[user.id] = (row, user, profile)
    visible, hidden = [], 0
    for row, user, profile in best.values():
        if not profile.contactable:
            hidden += 1
            continue
        visible.append(
            Guide(
                name=user.name or user.email,
                email=user.email,
                municipality=session.get(Municipality, profile.municipality_id) if profile.municipality_id else None,
                service=session.get(Service, profile.service_id) if profile.service_id else None,
                level=row.level,
                achieved_on=row.achieved_on,
                expires_on=row.expires_on,
            )
        )
    visible.sort(key=lambda g: (-order.index(g.level), norwegian_key(g.name)))
    return visible, hidden


# Expiring certifications --------------------------------------------------------------------------


@dataclass
class Expiring:
    record: CompetenceRecord
    area: CompetenceArea
    municipality: Municipality
    name: str | None  # None when the person has not opted in to be shown
    email: str | None


def expiring(session: Session, base: CompetenceBase, today: date, months: int = EXPIRY_WINDOW_MONTHS) -> list[Expiring]:
    """Records of people working in the base's municipalities that expire from today to `months` ahead,
    soonest first. Names only for people who opted in."""
    members = {m.id: m for m in member_municipalities(session, base.id)}
    if not members:
        return []
    last = today + relativedelta(months=months)
    rows = session.exec(
        select(CompetenceRecord, CompetenceArea, User, CompetenceProfile)
        .join(CompetenceArea, CompetenceArea.id == CompetenceRecord.area_id)
        .join(User, User.id == CompetenceRecord.user_id)
        .join(CompetenceProfile, CompetenceProfile.user_id == CompetenceRecord.user_id)
        .where(
            User.is_active,
            CompetenceRecord.expires_on >= today,
            CompetenceRecord.expires_on <= last,
            CompetenceProfile.municipality_id.in_(members),
        )
        .order_by(CompetenceRecord.expires_on, CompetenceRecord.id)
    ).all()
    return [
        Expiring(
            r,
            a,
            members[p.municipality_id],
            (u.name or u.email) if p.contactable else None,
            u.email if p.contactable else None,
        )
        for r, a, u, p in rows
    ]


def kind_label(kind: str) -> str:
    return AREA_KINDS.get(kind, kind)
