"""Every change to networks: the network itself, its members, and the meetings planned from its cadence.

Meetings are ordinary events (kind nettverksmote) made through events.operations.save_event. Each
planned meeting remembers the cadence occurrence it stands for (Event.series_date). Planning skips
every occurrence that already has an event with that series_date, whatever its status or date now,
so a meeting that was moved (edited to another day) or skipped (cancelled) is never made again.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, delete, func, select

from nettverk.accounts.models import User
from nettverk.accounts.operations import normalise_email, user_by_email
from nettverk.activity import record
from nettverk.db import lock_for_update
from nettverk.errors import OperationError
from nettverk.events.models import Event, EventAudience, EventKind, EventStatus
from nettverk.events.operations import EventData, cancel_event, save_event
from nettverk.networks import queries
from nettverk.networks.cadence import CadenceError, cadence_rule, normalise_cadence, occurrences
from nettverk.networks.models import MEMBER_KINDS, NETWORK_KINDS, Network, NetworkBase, NetworkMember
from nettverk.registry.models import CompetenceBase, Municipality
from nettverk.text import slugify
from nettverk.timeutil import MONTHS, format_date, today_in_oslo

MAX_MEETINGS_PER_PLAN = 200
MAX_PLAN_YEARS = 3


@dataclass
class NetworkData:
    name: str
    kind: str
    base_ids: list[int]
    description: str = ""
    cadence: str = ""
    cadence_start: date | None = None
    meeting_start: time = time(9, 0)
    meeting_minutes: int = 180
    venue_name: str = ""
    venue_address: str = ""
    host_municipality_id: int | None = None


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _unique_slug(session: Session, name: str) -> str:
    base = slugify(name)[:110]
    taken = set(session.exec(select(Network.slug).where(Network.slug.startswith(base))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def save_network(
    session: Session,
    actor_id: int | None,
    data: NetworkData,
    network: Network | None = None,
    allowed_base_ids: set[int] | None = None,
) -> Network:
    """Create or change a network. allowed_base_ids are the bases the actor coordinates (None: all,
    for the admin): only those can be added or removed; the network's other bases stay as they are."""
    name = _clean(data.name)
    if not name:
        raise OperationError("Skriv navnet på nettverket.", "name")
    if len(name) > 160:
        raise OperationError("Navnet kan være høyst 160 tegn.", "name")
    if data.kind not in NETWORK_KINDS:
        raise OperationError("Velg type nettverk.", "kind")
    clash = session.exec(select(Network).where(func.lower(Network.name) == name.lower())).first()
    if clash is not None and clash is not network:
        raise OperationError(f"Det finnes allerede et nettverk som heter {clash.name}.", "name", 409)

    chosen = set(data.base_ids or [])
    existing = queries.base_ids(session, network.id) if network is not None else set()
    if allowed_base_ids is not None:
        if chosen - allowed_base_ids:
            raise OperationError("Du kan bare velge kompetansebaser du er koordinator for.", "base_ids", 403)
        chosen |= existing - allowed_base_ids  # the bases of other coordinators are theirs to change
    if not chosen:
        raise OperationError("Velg minst én kompetansebase. Koordinatorene der planlegger nettverket.", "base_ids")
    found = set(session.exec(select(CompetenceBase.id).where(CompetenceBase.id.in_(chosen))))
    if found != chosen:
        raise OperationError("Velg kompetansebaser som finnes.", "base_ids")

    cadence = normalise_cadence(data.cadence)
    start = (
        data.cadence_start or (network.cadence_start if network and network.cadence_start else None) or today_in_oslo()
    )
    if cadence:
        try:
            cadence_rule(cadence, start)
        except CadenceError as error:
            raise OperationError(str(error), "cadence") from error
    if len(cadence) > 300:
        raise OperationError("Regelen kan være høyst 300 tegn.", "cadence")
    if data.meeting_start is None:
        raise OperationError("Skriv når møtene starter, for eksempel 09:00.", "meeting_start")
    if data.meeting_minutes is None or not 15 <= data.meeting_minutes <= 12 * 60:
        raise OperationError("Et møte må vare mellom 15 minutter og 12 timer (720 minutter).", "meeting_minutes")
    if data.host_municipality_id is not None and session.get(Municipality, data.host_municipality_id) is None:
        raise OperationError("Velg en kommune som finnes.", "host_municipality_id")

    created = network is None
    if created:
        network = Network(slug=_unique_slug(session, name), name=name)
    network.name, network.kind, network.description = name, data.kind, _clean(data.description)
    network.cadence, network.cadence_start = cadence, start if cadence else data.cadence_start
    network.meeting_start, network.meeting_minutes = data.meeting_start, data.meeting_minutes
    network.venue_name, network.venue_address = _clean(data.venue_name), _clean(data.venue_address)
    network.host_municipality_id = data.host_municipality_id
    session.add(network)
    session.flush()
    if existing != chosen:
        session.execute(
            delete(NetworkBase).where(NetworkBase.network_id == network.id, NetworkBase.base_id.in_(existing - chosen))
        )
        for base_id in sorted(chosen - existing):
            session.add(NetworkBase(network_id=network.id, base_id=base_id))
        session.flush()
    record(
        session,
        actor_id,
        "network.created" if created else "network.updated",
        network,
        f"{network.name}" + (f", rytme {cadence}" if cadence else ""),
    )
    return network


# Members ------------------------------------------------------------------------------------------


def add_member(
    session: Session,
    actor_id: int | None,
    network: Network,
    email: str,
    name: str,
    unit_id: int | None,
    kind: str,
    joined_on: date | None,
) -> NetworkMember:
    """Add a person by e-mail. Someone without an account gets a user row without a password: a
    member need not log in (an invitation can give them a login later)."""
    email = normalise_email(email)
    if kind not in MEMBER_KINDS:
        raise OperationError("Velg type medlemskap.", "kind")
    if unit_id is not None:
        units = {unit.id for unit, _, _ in queries.unit_choices(session, queries.base_ids(session, network.id))}
        if unit_id not in units:
            raise OperationError(
                "Velg en enhet i en tjeneste som betjener kommunene i nettverkets kompetansebaser.", "unit_id"
            )
    if joined_on is None:
        joined_on = today_in_oslo()
    user = user_by_email(session, email)
    if user is None:
        name = _clean(name)
        if not name:
            raise OperationError("Skriv navnet. Personen har ikke konto ennå, og navnet vises i medlemslisten.", "name")
        user = User(email=email, name=name[:160])
        session.add(user)
        session.flush()
        record(session, actor_id, "user.created_as_member", user, f"{email} (uten innlogging)")
    elif (
        session.exec(
            select(NetworkMember).where(NetworkMember.network_id == network.id, NetworkMember.user_id == user.id)
        ).first()
        is not None
    ):
        raise OperationError(f"{user.name or email} er allerede medlem av {network.name}.", "email", 409)
    member = NetworkMember(network_id=network.id, user_id=user.id, unit_id=unit_id, kind=kind, joined_on=joined_on)
    session.add(member)
    session.flush()
    record(
        session,
        actor_id,
        "network.member_added",
        network,
        f"{user.name or email} ({MEMBER_KINDS[kind].lower()}) i {network.name}",
    )
    return member


def remove_member(session: Session, actor_id: int | None, network: Network, member_id: int | None) -> User:
    member = session.get(NetworkMember, member_id) if member_id else None
    if member is None or member.network_id != network.id:
        raise OperationError("Fant ikke medlemmet. Kanskje det allerede er fjernet.", status=404)
    user = session.get(User, member.user_id)
    session.delete(member)
    session.flush()
    record(session, actor_id, "network.member_removed", network, f"{user.name or user.email} fra {network.name}")
    return user


# Meetings from the cadence ------------------------------------------------------------------------


@dataclass
class PlanResult:
    created: list[Event] = field(default_factory=list)
    already: int = 0  # occurrences that had a meeting (also moved or skipped ones)
    refused: list[tuple[date, str]] = field(default_factory=list)  # dates save_event refused, and why


def end_of_next_year(today: date) -> date:
    return date(today.year + 1, 12, 31)


def meeting_title(network: Network, day: date) -> str:
    return f"{network.name} – {MONTHS[day.month - 1]} {day.year}"


def plan_meetings(
    session: Session, actor_id: int | None, network: Network, until: date | None = None, today: date | None = None
) -> PlanResult:
    """Make the cadence's meetings from today to `until` (default: the end of next year) as drafts.
    Occurrences that already have a meeting of this network are skipped, so running it again makes
    nothing new. A date save_event refuses (a start time that does not exist that day because of
    daylight saving time) is left out and reported; the others are still made."""
    today = today or today_in_oslo()
    until = until or end_of_next_year(today)
    if not network.cadence:
        raise OperationError(
            "Nettverket har ingen møterytme. Legg inn en rytme under «Rediger nettverket» først.", status=409
        )
    if until < today:
        raise OperationError("Velg en dato fram i tid.", "until")
    if until > today + timedelta(days=366 * MAX_PLAN_YEARS):
        raise OperationError(f"Planlegg høyst {MAX_PLAN_YEARS} år fram i tid.", "until")
    network = lock_for_update(session, Network, network.id)  # two planners at once must not both make a meeting
    try:
        dates = occurrences(network, today, until)
    except CadenceError as error:
        raise OperationError(f"Møterytmen kan ikke brukes: {error}", status=409) from error
    if len(dates) > MAX_MEETINGS_PER_PLAN:
        raise OperationError(
            f"Det blir {len(dates)} møter. Velg en kortere periode (høyst {MAX_MEETINGS_PER_PLAN} møter om gangen).",
            "until",
        )
    taken = (
        set(session.exec(select(Event.series_date).where(Event.network_id == network.id, Event.series_date.in_(dates))))
        if dates
        else set()
    )
    result = PlanResult(already=sum(1 for day in dates if day in taken))
    for day in dates:
        if day in taken:
            continue
        end = datetime.combine(day, network.meeting_start) + timedelta(minutes=network.meeting_minutes)
        data = EventData(
            kind=EventKind.NETTVERKSMOTE,
            title=meeting_title(network, day),
            start_date=day,
            end_date=end.date(),
            start_time=network.meeting_start,
            end_time=end.time(),
            network_id=network.id,
            audience=EventAudience.NETWORK,
            venue_name=network.venue_name,
            venue_address=network.venue_address,
            host_municipality_id=network.host_municipality_id,
            series_date=day,
        )
        try:
            result.created.append(save_event(session, actor_id, data))
        except OperationError as error:  # save_event checks everything before it writes
            result.refused.append((day, error.message))
    record(
        session,
        actor_id,
        "network.planned",
        network,
        f"{len(result.created)} møter til og med {until.isoformat()}"
        + (f", ikke laget: {', '.join(d.isoformat() for d, _ in result.refused)}" if result.refused else ""),
    )
    return result


def skip_meeting(session: Session, actor_id: int | None, network: Network, event: Event, reason: str = "") -> None:
    """Skip one meeting of the series: it is cancelled (registrants are told if it was published) and
    keeps its series_date, so planning never makes it again."""
    if event.network_id != network.id:
        raise OperationError("Møtet hører ikke til dette nettverket.", status=404)
    if event.status == EventStatus.CANCELLED:
        raise OperationError("Møtet er allerede hoppet over.", status=409)
    cancel_event(session, actor_id, event, reason or "Møtet er tatt ut av nettverkets møteplan.")
    record(
        session,
        actor_id,
        "network.meeting_skipped",
        network,
        f"{event.title} ({format_date(event.series_date) if event.series_date else 'utenom rytmen'})",
    )
