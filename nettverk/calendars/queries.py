"""Which events a feed holds, a cheap fingerprint of them for ETag and 304, and the calendar entries
the renderer needs, read in a fixed number of queries whatever the number of events.

A feed is a `Scope`: a SQL condition on events plus a name. Its fingerprint is one aggregate query
over the same condition (count, sum of ids, latest change): every change the renderer shows moves
`Event.updated_at` (operations set it on every change of an event), an event that enters or leaves
the feed changes the count or the sum, and so a poll that finds nothing changed costs one query and
renders nothing.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, false, func, or_
from sqlmodel import Session, select

from nettverk.calendars.render import Entry, ProgrammeLine
from nettverk.events.calendar import of_bases
from nettverk.events.models import CANCELLED, CONFIRMED, DRAFT, EVENT_KINDS, Event, ProgrammeItem, Registration
from nettverk.networks.models import Network, NetworkBase, NetworkMember
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality
from nettverk.registry.queries import with_predecessors
from nettverk.timeutil import utcnow

PAST = timedelta(days=365)  # a feed holds the last year and everything ahead
CANCELLED_KEPT = timedelta(days=60)  # a cancelled event stays (as CANCELLED) so clients remove it
RENDER_VERSION = "1"  # raise when the renderer's output changes, so clients fetch the new bytes


@dataclass
class Scope:
    key: str  # e.g. "base:3"; part of the ETag
    name: str  # the calendar's name in the client
    about: str
    condition: object  # SQL condition on Event
    alarm_minutes: int | None = None


def _in_window(now: datetime):
    """The last year and the future; a cancelled event only while it is ahead or was cancelled
    within the last 60 days (its updated_at is the cancellation)."""
    return and_(Event.ends_at >= now - PAST,
                or_(Event.status != CANCELLED, Event.ends_at >= now, Event.updated_at >= now - CANCELLED_KEPT))


PUBLIC = Event.status != DRAFT


def base_scope(base: CompetenceBase) -> Scope:
    return Scope(f"base:{base.id}:{base.name}", f"{base.name} – samlinger",
                 f"Fagdager, samlinger, kurs og nettverksmøter i {base.name}.",
                 and_(PUBLIC, of_bases({base.id})))


def network_scope(network: Network) -> Scope:
    return Scope(f"network:{network.id}:{network.name}", network.name, f"Møtene i {network.name}.",
                 and_(PUBLIC, Event.network_id == network.id))


def municipality_scope(session: Session, municipality: Municipality) -> Scope:
    """Events hosted or held in the municipality (or the ones it was merged from), and the events of
    its bases that are open to the base or the whole region."""
    ids = with_predecessors(session, municipality.id)
    base_ids = select(BaseMembership.base_id).where(BaseMembership.municipality_id.in_(ids))
    open_to_it = and_(Event.audience != "network",
                      or_(Event.base_id.in_(base_ids),
                          Event.network_id.in_(select(NetworkBase.network_id).where(NetworkBase.base_id.in_(base_ids)))))
    there = or_(Event.host_municipality_id.in_(ids), Event.venue_municipality_id.in_(ids))
    return Scope(f"municipality:{municipality.id}:{municipality.name}", f"Samlinger for {municipality.name}",
                 f"Samlinger i og for {municipality.name}.", and_(PUBLIC, or_(there, open_to_it)))


def personal_scope(email: str, user_id: int | None, coordinated_base_ids: set[int], alarm_minutes: int | None,
                   name: str) -> Scope:
    """A person's own calendar: what they are registered for, the meetings of their networks, and for
    a coordinator the drafts of their bases (shown as TENTATIVE)."""
    registered = Event.id.in_(select(Registration.event_id).where(Registration.email == email,
                                                                   Registration.status == CONFIRMED))
    parts = [and_(PUBLIC, registered)]
    if user_id is not None:
        member_of = select(NetworkMember.network_id).where(NetworkMember.user_id == user_id)
        parts.append(and_(PUBLIC, Event.network_id.in_(member_of)))
    if coordinated_base_ids:
        parts.append(and_(Event.status == DRAFT, of_bases(coordinated_base_ids)))
    # The name is in the key (as in the other scopes): it is the calendar's name, so a new name is a new ETag.
    return Scope(f"person:{email}:{name}:{sorted(coordinated_base_ids)}", f"nettverk – {name}" if name else "nettverk",
                 "Dine påmeldinger og nettverksmøter i nettverk.", or_(*parts) if parts else false(),
                 alarm_minutes)


def fingerprint(session: Session, scope: Scope, now: datetime | None = None) -> tuple[str, datetime | None]:
    """(ETag, Last-Modified) of the feed, from one aggregate query."""
    now = now or utcnow()
    count, id_sum, latest = session.exec(
        select(func.count(Event.id), func.coalesce(func.sum(Event.id), 0), func.max(Event.updated_at))
        .where(scope.condition, _in_window(now))).one()
    if isinstance(latest, str):  # SQLite hands back text from an aggregate
        latest = datetime.fromisoformat(latest)
    parts = f"{RENDER_VERSION}|{scope.key}|{scope.alarm_minutes}|{count}|{id_sum}|{latest}"
    digest = hashlib.sha256(parts.encode()).hexdigest()[:32]
    return f'"{digest}"', latest


def events_of(session: Session, scope: Scope, now: datetime | None = None) -> list[Event]:
    return list(session.exec(select(Event).where(scope.condition, _in_window(now or utcnow()))
                             .order_by(Event.starts_at, Event.id)))


def external_url(endpoint: str, **values) -> str:
    """An absolute URL on the public address (NETTVERK_BASE_URL), also outside a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def entries(session: Session, events: list[Event]) -> list[Entry]:
    """The renderer's view of these events: two queries (names, programme), none per event."""
    if not events:
        return []
    ids = [e.id for e in events]
    names = {}
    rows = session.exec(select(Event.id, CompetenceBase.name, Network.name, Municipality.name)
                        .join(CompetenceBase, CompetenceBase.id == Event.base_id, isouter=True)
                        .join(Network, Network.id == Event.network_id, isouter=True)
                        .join(Municipality, Municipality.id == Event.venue_municipality_id, isouter=True)
                        .where(Event.id.in_(ids)))
    for event_id, base_name, network_name, venue_name in rows:
        names[event_id] = (base_name or "", network_name or "", venue_name or "")
    programme: dict[int, list[ProgrammeLine]] = {}
    for item in session.exec(select(ProgrammeItem).where(ProgrammeItem.event_id.in_(ids))
                             .order_by(ProgrammeItem.event_id, ProgrammeItem.position)):
        programme.setdefault(item.event_id, []).append(ProgrammeLine(item.starts, item.title, item.speaker))
    result = []
    for event in events:
        base_name, network_name, venue_municipality = names.get(event.id, ("", "", ""))
        kind = EVENT_KINDS.get(event.kind, event.kind)
        result.append(Entry(
            uid=event.uid, sequence=event.sequence, status=event.status, title=event.title,
            starts_at=event.starts_at, ends_at=event.ends_at, all_day=event.all_day,
            created_at=event.created_at, updated_at=event.updated_at,
            url=external_url("events.event_detail", event_id=event.id), description=event.description,
            programme=tuple(programme.get(event.id, ())), venue_name=event.venue_name,
            venue_address=event.venue_address, venue_municipality=venue_municipality,
            online_url=event.online_url, organizer_name=network_name or base_name, kind_label=kind,
            categories=tuple(c for c in (kind, base_name or network_name) if c)))
    return result


def entry(session: Session, event: Event) -> Entry:
    return entries(session, [event])[0]
