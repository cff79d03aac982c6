"""Read-side queries for events and registrations."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from nettverk import policy
from nettverk.events.models import Event, ProgrammeItem, Registration, RegistrationStatus
from nettverk.networks.models import Network, NetworkBase
from nettverk.registry.models import CompetenceBase, Municipality, Unit
from nettverk.timeutil import oslo_midnight


@dataclass
class EventPage:
    event: Event
    base: CompetenceBase | None
    network: Network | None
    programme: list[ProgrammeItem]
    host: Municipality | None
    venue_municipality: Municipality | None
    counts: dict[str, int]


def status_counts(session: Session, event_id: int) -> dict[str, int]:
    counts = {
        RegistrationStatus.CONFIRMED: 0,
        RegistrationStatus.WAITLISTED: 0,
        RegistrationStatus.UNCONFIRMED: 0,
        RegistrationStatus.WITHDRAWN: 0,
    }
    for status, count in session.exec(
        select(Registration.status, func.count()).where(Registration.event_id == event_id).group_by(Registration.status)
    ):
        counts[status] = count
    return counts


def event_page(session: Session, event: Event) -> EventPage:
    return EventPage(
        event=event,
        base=session.get(CompetenceBase, event.base_id) if event.base_id else None,
        network=session.get(Network, event.network_id) if event.network_id else None,
        programme=list(
            session.exec(
                select(ProgrammeItem).where(ProgrammeItem.event_id == event.id).order_by(ProgrammeItem.position)
            )
        ),
        host=session.get(Municipality, event.host_municipality_id) if event.host_municipality_id else None,
        venue_municipality=(
            session.get(Municipality, event.venue_municipality_id) if event.venue_municipality_id else None
        ),
        counts=status_counts(session, event.id),
    )


def registration_of(session: Session, event_id: int, email: str) -> Registration | None:
    """The person's live registration for the event, if any."""
    return session.exec(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.email == email,
            Registration.status != RegistrationStatus.WITHDRAWN,
        )
    ).first()


def participants(session: Session, event_id: int) -> list[tuple[Registration, Municipality | None, Unit | None]]:
    """All registrations of an event with municipality and unit, in list order: confirmed by name,
    then the waitlist in the order it is served, then the rest."""
    rows = session.exec(
        select(Registration, Municipality, Unit)
        .join(Municipality, Municipality.id == Registration.municipality_id, isouter=True)
        .join(Unit, Unit.id == Registration.unit_id, isouter=True)
        .where(Registration.event_id == event_id)
    )
    order = {
        RegistrationStatus.CONFIRMED: 0,
        RegistrationStatus.WAITLISTED: 1,
        RegistrationStatus.UNCONFIRMED: 2,
        RegistrationStatus.WITHDRAWN: 3,
    }

    def key(row):
        registration = row[0]
        if registration.status == RegistrationStatus.WAITLISTED:
            # as operations.waitlist serves it: priority, first come (see operations.queue_time), id
            return (1, -registration.priority, registration.confirmed_at or registration.created_at, registration.id)
        return (order[registration.status], registration.name.lower())

    return sorted(rows, key=key)


def my_registrations(session: Session, email: str) -> list[tuple[Registration, Event]]:
    return list(
        session.exec(
            select(Registration, Event)
            .join(Event, Event.id == Registration.event_id)
            .where(Registration.email == email)
            .order_by(Event.starts_at.desc())
        )
    )


def plannable_bases(session: Session, base_ids: set[int] | None) -> list[CompetenceBase]:
    """Bases the user may plan for (None: all, for the admin)."""
    query = select(CompetenceBase).order_by(CompetenceBase.name)
    if base_ids is not None:
        query = query.where(CompetenceBase.id.in_(base_ids))
    return list(session.exec(query))


def plannable_networks(session: Session, base_ids: set[int] | None) -> list[Network]:
    query = select(Network).order_by(Network.name)
    if base_ids is not None:
        query = (
            query.join(NetworkBase, NetworkBase.network_id == Network.id)
            .where(NetworkBase.base_id.in_(base_ids))
            .distinct()
        )
    return list(session.exec(query))


# The API's list of events ---------------------------------------------------------------------------------

LIST_PAGE = 200  # ten years of events nationally: the API's list is read a page at a time

Host = aliased(Municipality, name="host_municipality")
Venue = aliased(Municipality, name="venue_municipality")


@dataclass
class EventFilter:
    """The API list's filters; None is no filter."""

    base_id: int | None = None  # the base's own events and its networks' meetings
    network_id: int | None = None
    host_ids: set[int] | None = None  # a municipality and those it was merged from
    kind: str | None = None
    first: date | None = None  # events still going on at or after the start of that Oslo day
    last: date | None = None  # events starting before that Oslo day is over

    def conditions(self) -> list:
        conditions = []
        if self.base_id is not None:
            conditions.append(policy.events_of_bases({self.base_id}))
        if self.network_id is not None:
            conditions.append(Event.network_id == self.network_id)
        if self.host_ids is not None:
            conditions.append(Event.host_municipality_id.in_(self.host_ids))
        if self.kind is not None:
            conditions.append(Event.kind == self.kind)
        if self.first is not None:
            conditions.append(Event.ends_at > oslo_midnight(self.first))
        if self.last is not None:
            conditions.append(Event.starts_at < oslo_midnight(self.last + timedelta(days=1)))
        return conditions


EventRow = tuple[Event, CompetenceBase | None, Network | None, Municipality | None, Municipality | None, int]


def event_rows(session: Session, *conditions, page: int | None = None) -> list[EventRow]:
    """Events with base, network, host and venue municipality and the number of confirmed seats, in one
    query (one page of them when `page` is given). The seats are counted per event shown (a correlated count
    on the registration index), not over every registration."""
    confirmed = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == Event.id, Registration.status == RegistrationStatus.CONFIRMED)
        .scalar_subquery()
    )
    query = (
        select(Event, CompetenceBase, Network, Host, Venue, confirmed)
        .join(CompetenceBase, CompetenceBase.id == Event.base_id, isouter=True)
        .join(Network, Network.id == Event.network_id, isouter=True)
        .join(Host, Host.id == Event.host_municipality_id, isouter=True)
        .join(Venue, Venue.id == Event.venue_municipality_id, isouter=True)
        .where(*conditions)
        .order_by(Event.starts_at, Event.id)
    )
    if page is not None:
        query = query.limit(LIST_PAGE).offset((page - 1) * LIST_PAGE)
    return list(session.exec(query))


def event_row(session: Session, event_id: int) -> EventRow:
    return event_rows(session, Event.id == event_id)[0]


def count_events(session: Session, *conditions) -> int:
    return session.exec(select(func.count()).select_from(Event).where(*conditions)).one()
