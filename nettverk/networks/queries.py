"""Read side of networks: pages (networks, members, meetings) and coverage. The cadence (RRULE) is
cadence.py."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, func, select

from nettverk.accounts.models import User
from nettverk.events.models import Event, EventKind, EventStatus, Registration
from nettverk.networks.models import NETWORK_KINDS, MemberKind, Network, NetworkBase, NetworkKind, NetworkMember
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Service, ServiceArea, Unit
from nettverk.text import norwegian_key
from nettverk.timeutil import format_date, to_oslo, today_in_oslo, utcnow

MEETING_KINDS = (EventKind.NETTVERKSMOTE, EventKind.KURS)


# Pages --------------------------------------------------------------------------------------------


def network_by_slug(session: Session, slug: str) -> Network | None:
    return session.exec(select(Network).where(Network.slug == slug)).first()


def networks_by_id(session: Session, ids: set[int]) -> dict[int, Network]:
    return {n.id: n for n in session.exec(select(Network).where(Network.id.in_(ids)))} if ids else {}


def networks_with_hosts(session: Session) -> list[tuple[Network, Municipality | None]]:
    query = select(Network, Municipality).join(
        Municipality, Municipality.id == Network.host_municipality_id, isouter=True
    )
    return list(session.exec(query.order_by(Network.name)))


def member_counts(session: Session) -> dict[int, int]:
    """{network id: number of members}, for every network with members."""
    query = select(NetworkMember.network_id, func.count()).group_by(NetworkMember.network_id)
    return dict(session.exec(query).all())


def base_ids(session: Session, network_id: int) -> set[int]:
    return set(session.exec(select(NetworkBase.base_id).where(NetworkBase.network_id == network_id)))


def bases_by_network(session: Session, network_ids: list[int] | None = None) -> dict[int, list[CompetenceBase]]:
    query = (
        select(NetworkBase.network_id, CompetenceBase)
        .join(CompetenceBase, CompetenceBase.id == NetworkBase.base_id)
        .order_by(CompetenceBase.name)
    )
    if network_ids is not None:
        query = query.where(NetworkBase.network_id.in_(network_ids))
    found = defaultdict(list)
    for network_id, base in session.exec(query):
        found[network_id].append(base)
    return found


def networks_by_kind(
    session: Session, base_id: int | None = None
) -> list[tuple[str, list[tuple[Network, list[CompetenceBase]]]]]:
    """Every network (or those of one base) with its bases, grouped by kind in the order of NETWORK_KINDS
    (two queries)."""
    query = select(Network)
    if base_id is not None:
        query = query.where(Network.id.in_(select(NetworkBase.network_id).where(NetworkBase.base_id == base_id)))
    networks = sorted(session.exec(query), key=lambda n: norwegian_key(n.name))
    bases = bases_by_network(session)
    groups = defaultdict(list)
    for network in networks:
        groups[network.kind].append((network, bases.get(network.id, [])))
    return [(kind, groups[kind]) for kind in NETWORK_KINDS if groups.get(kind)] + [
        (kind, rows) for kind, rows in groups.items() if kind not in NETWORK_KINDS
    ]


@dataclass
class MemberRow:
    member: NetworkMember
    user: User
    unit: Unit | None
    service: Service | None
    municipality: Municipality | None


def members(session: Session, network_id: int) -> list[MemberRow]:
    rows = session.exec(
        select(NetworkMember, User, Unit, Service, Municipality)
        .join(User, User.id == NetworkMember.user_id)
        .join(Unit, Unit.id == NetworkMember.unit_id, isouter=True)
        .join(Service, Service.id == Unit.service_id, isouter=True)
        .join(Municipality, Municipality.id == Unit.municipality_id, isouter=True)
        .where(NetworkMember.network_id == network_id)
    )
    return sorted((MemberRow(*row) for row in rows), key=lambda r: norwegian_key(r.user.name or r.user.email))


def is_member(session: Session, network_id: int, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        session.exec(
            select(NetworkMember.id).where(NetworkMember.network_id == network_id, NetworkMember.user_id == user.id)
        ).first()
        is not None
    )


def meetings(session: Session, network_id: int, include_unpublished: bool) -> list[Event]:
    """The network's meetings that have not ended: published ones for everyone; for its managers also
    drafts and cancelled (skipped) ones, so they see what the planner made and skipped."""
    statuses = (
        (EventStatus.DRAFT, EventStatus.PUBLISHED, EventStatus.CANCELLED)
        if include_unpublished
        else (EventStatus.PUBLISHED,)
    )
    return list(
        session.exec(
            select(Event)
            .where(Event.network_id == network_id, Event.ends_at >= utcnow(), Event.status.in_(statuses))
            .order_by(Event.starts_at)
        )
    )


def unit_choices(session: Session, base_ids: set[int]) -> list[tuple[Unit, Service, Municipality | None]]:
    """Units of the services that serve the bases' municipalities (a unit placed in a municipality
    outside the bases is left out)."""
    if not base_ids:
        return []
    municipality_ids = select(BaseMembership.municipality_id).where(BaseMembership.base_id.in_(base_ids))
    services = select(ServiceArea.service_id).where(ServiceArea.municipality_id.in_(municipality_ids))
    rows = session.exec(
        select(Unit, Service, Municipality)
        .join(Service, Service.id == Unit.service_id)
        .join(Municipality, Municipality.id == Unit.municipality_id, isouter=True)
        .where(
            Unit.service_id.in_(services),
            or_(Unit.municipality_id.is_(None), Unit.municipality_id.in_(municipality_ids)),
        )
    )
    return sorted(rows, key=lambda r: (norwegian_key(r[1].name), norwegian_key(r[0].name)))


# Coverage -----------------------------------------------------------------------------------------


@dataclass
class UnitCoverage:
    unit: Unit
    service: Service
    municipality: Municipality | None
    resource_persons: int


@dataclass
class PersonLastSeen:
    user: User
    unit: Unit | None
    networks: list[str]
    last_attended: datetime | None  # None: never


@dataclass
class Newcomer:
    user: User
    unit: Unit | None
    network: Network
    joined_on: date


@dataclass
class Coverage:
    base: CompetenceBase
    bti_networks: list[Network]
    units_missing: list[UnitCoverage] = field(default_factory=list)
    units_total: int = 0
    stale: list[PersonLastSeen] = field(default_factory=list)
    resource_persons: int = 0
    newcomers: list[Newcomer] = field(default_factory=list)
    cutoff: date | None = None


def _attended(
    session: Session, kinds: tuple[str, ...], network_ids: list[int], base_id: int | None = None
) -> tuple[dict[int, datetime], dict[str, datetime]]:
    """When each person last attended an event of these kinds of these networks (or of the base itself):
    by user id and by e-mail, as a registration may be a guest's without a user."""
    where = Event.network_id.in_(network_ids)
    if base_id is not None:
        where = or_(where, Event.base_id == base_id)
    rows = session.exec(
        select(Registration.user_id, Registration.email, func.max(Event.starts_at))
        .join(Event, Event.id == Registration.event_id)
        .where(where, Event.kind.in_(kinds), Registration.attended.is_(True))
        .group_by(Registration.user_id, Registration.email)
    )
    by_user, by_email = {}, {}
    for user_id, email, last in rows:
        if user_id is not None and (user_id not in by_user or last > by_user[user_id]):
            by_user[user_id] = last
        if email and (email not in by_email or last > by_email[email]):
            by_email[email] = last
    return by_user, by_email


def _last(user: User, by_user: dict[int, datetime], by_email: dict[str, datetime]) -> datetime | None:
    found = [moment for moment in (by_user.get(user.id), by_email.get(user.email.lower())) if moment is not None]
    return max(found) if found else None


def coverage(session: Session, base: CompetenceBase, today: date | None = None) -> Coverage:
    """The base's BTI coverage in a fixed number of queries, whatever the number of units or people:
    (a) units with fewer than two ressurspersoner across the base's BTI networks, (b) ressurspersoner
    whose last BTI network meeting or course is more than a year ago (or never), (c) nyansatte:
    members of the base's networks who joined in the last 12 months and have not attended a course
    (a kurs of one of the base's networks or of the base itself)."""
    today = today or today_in_oslo()
    year_ago = (
        today.replace(year=today.year - 1)
        if not (today.month == 2 and today.day == 29)
        else today - timedelta(days=365)
    )
    networks = list(
        session.exec(
            select(Network)
            .join(NetworkBase, NetworkBase.network_id == Network.id)
            .where(NetworkBase.base_id == base.id)
            .order_by(Network.name)
        )
    )
    bti = [n for n in networks if n.kind == NetworkKind.BTI]
    bti_ids = [n.id for n in bti]
    result = Coverage(base=base, bti_networks=bti, cutoff=year_ago)

    # (a) units and their ressurspersoner (distinct people: one person in two BTI networks counts once)
    units = unit_choices(session, {base.id})
    counts = (
        dict(
            session.exec(
                select(NetworkMember.unit_id, func.count(func.distinct(NetworkMember.user_id)))
                .where(
                    NetworkMember.network_id.in_(bti_ids),
                    NetworkMember.kind == MemberKind.RESSURSPERSON,
                    NetworkMember.unit_id.is_not(None),
                )
                .group_by(NetworkMember.unit_id)
            ).all()
        )
        if bti_ids
        else {}
    )
    result.units_total = len(units)
    result.units_missing = sorted(
        (
            UnitCoverage(unit, service, municipality, counts.get(unit.id, 0))
            for unit, service, municipality in units
            if counts.get(unit.id, 0) < 2
        ),
        key=lambda row: (
            row.resource_persons,
            norwegian_key(row.municipality.name if row.municipality else ""),
            norwegian_key(row.unit.name),
        ),
    )

    # (b) ressurspersoner and when they last took part
    people: dict[int, PersonLastSeen] = {}
    if bti_ids:
        by_user, by_email = _attended(session, MEETING_KINDS, bti_ids)
        rows = session.exec(
            select(NetworkMember, User, Unit, Network.name)
            .join(User, User.id == NetworkMember.user_id)
            .join(Unit, Unit.id == NetworkMember.unit_id, isouter=True)
            .join(Network, Network.id == NetworkMember.network_id)
            .where(NetworkMember.network_id.in_(bti_ids), NetworkMember.kind == MemberKind.RESSURSPERSON)
        )
        for _member, user, unit, network_name in rows:
            person = people.setdefault(user.id, PersonLastSeen(user, unit, [], _last(user, by_user, by_email)))
            person.networks.append(network_name)
    result.resource_persons = len(people)
    result.stale = sorted(
        (p for p in people.values() if p.last_attended is None or to_oslo(p.last_attended).date() < year_ago),
        key=lambda p: (
            p.last_attended is not None,
            to_oslo(p.last_attended) if p.last_attended else None,
            norwegian_key(p.user.name),
        ),
    )

    # (c) nyansatte
    network_ids = [n.id for n in networks]
    if network_ids:
        trained_users, trained_emails = _attended(session, (EventKind.KURS,), network_ids, base.id)
        rows = session.exec(
            select(NetworkMember, User, Unit, Network)
            .join(User, User.id == NetworkMember.user_id)
            .join(Unit, Unit.id == NetworkMember.unit_id, isouter=True)
            .join(Network, Network.id == NetworkMember.network_id)
            .where(NetworkMember.network_id.in_(network_ids), NetworkMember.joined_on > year_ago)
            .order_by(NetworkMember.joined_on.desc())
        )
        seen = set()
        for member, user, unit, network in rows:
            if user.id in seen or _last(user, trained_users, trained_emails) is not None:
                continue
            seen.add(user.id)
            result.newcomers.append(Newcomer(user, unit, network, member.joined_on))
    return result


def describe_last(moment: datetime | None) -> str:
    return format_date(moment) if moment else "aldri"
