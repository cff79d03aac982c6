"""Read-side queries for events and registrations."""

from dataclasses import dataclass

from sqlmodel import Session, func, select

from nettverk.events.models import CONFIRMED, UNCONFIRMED, WAITLISTED, WITHDRAWN, Event, ProgrammeItem, Registration
from nettverk.networks.models import Network, NetworkBase
from nettverk.registry.models import CompetenceBase, Municipality, Unit


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
    counts = {CONFIRMED: 0, WAITLISTED: 0, UNCONFIRMED: 0, WITHDRAWN: 0}
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
            Registration.event_id == event_id, Registration.email == email, Registration.status != WITHDRAWN
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
    order = {CONFIRMED: 0, WAITLISTED: 1, UNCONFIRMED: 2, WITHDRAWN: 3}

    def key(row):
        registration = row[0]
        if registration.status == WAITLISTED:
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
