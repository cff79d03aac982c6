"""Read-side queries of the registry. Each page is a fixed handful of queries, whatever the data size."""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, func, or_, select

from nettverk.registry.models import (
    BaseMembership,
    CompetenceBase,
    Contact,
    County,
    MergerStatus,
    Municipality,
    MunicipalityChange,
    PlannedMerger,
    PlannedMergerPart,
    Service,
    ServiceArea,
    Unit,
)
from nettverk.text import norwegian_key


def bases_with_counts(session: Session) -> list[tuple[CompetenceBase, int]]:
    rows = session.exec(
        select(CompetenceBase, func.count(BaseMembership.municipality_id))
        .join(BaseMembership, BaseMembership.base_id == CompetenceBase.id, isouter=True)
        .group_by(CompetenceBase.id)
        .order_by(CompetenceBase.name)
    )
    return list(rows)


def base_members(session: Session, base_id: int) -> list[tuple[Municipality, BaseMembership]]:
    rows = session.exec(
        select(Municipality, BaseMembership)
        .join(BaseMembership, BaseMembership.municipality_id == Municipality.id)
        .where(BaseMembership.base_id == base_id)
    )
    return sorted(rows, key=lambda row: norwegian_key(row[0].name))


def counties(session: Session) -> list[County]:
    return list(session.exec(select(County).order_by(County.number)))


def base_by_slug(session: Session, slug: str) -> CompetenceBase | None:
    return session.exec(select(CompetenceBase).where(CompetenceBase.slug == slug)).first()


def municipality_by_number(session: Session, number: str) -> Municipality | None:
    return session.exec(select(Municipality).where(Municipality.number == number)).first()


def municipalities(session: Session, include_historic: bool = False) -> list[tuple[Municipality, County]]:
    query = select(Municipality, County).join(County, County.id == Municipality.county_id)
    if not include_historic:
        query = query.where(Municipality.valid_to.is_(None))
    return sorted(session.exec(query), key=lambda row: norwegian_key(row[0].name))


def current_municipality_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.exec(select(Municipality).where(Municipality.valid_to.is_(None)))
    return [(m.id, f"{m.number} {m.display_name}") for m in sorted(rows, key=lambda m: norwegian_key(m.name))]


def predecessor_ids(session: Session, municipality_id: int) -> set[int]:
    """Every municipality that was merged (directly or in steps) into this one, not itself.
    The history table is small (a few hundred rows nationally), so it is read whole in one query."""
    edges = defaultdict(list)
    for change in session.exec(select(MunicipalityChange)):
        edges[change.successor_id].append(change.predecessor_id)
    found, todo = set(), [municipality_id]
    while todo:
        for predecessor in edges[todo.pop()]:
            if predecessor not in found and predecessor != municipality_id:
                found.add(predecessor)
                todo.append(predecessor)
    return found


def with_predecessors(session: Session, municipality_id: int) -> set[int]:
    """The municipality and all its predecessors: what 'found under the successor' looks in."""
    return {municipality_id} | predecessor_ids(session, municipality_id)


@dataclass
class MunicipalityPage:
    municipality: Municipality
    county: County
    bases: list[CompetenceBase]
    services: list[Service]
    contacts: list[tuple[Contact, Municipality]]
    merged_from: list[tuple[Municipality, MunicipalityChange]]
    merged_into: list[tuple[Municipality, MunicipalityChange]]
    units: list[tuple[Unit, Service]] = field(default_factory=list)
    planned: list["Planned"] = field(default_factory=list)


def municipality_page(session: Session, municipality: Municipality) -> MunicipalityPage:
    ids = with_predecessors(session, municipality.id)
    bases = session.exec(
        select(CompetenceBase)
        .join(BaseMembership, BaseMembership.base_id == CompetenceBase.id)
        .where(BaseMembership.municipality_id == municipality.id)
        .order_by(CompetenceBase.name)
    )
    services = session.exec(
        select(Service)
        .join(ServiceArea, ServiceArea.service_id == Service.id)
        .where(ServiceArea.municipality_id.in_(ids))
        .distinct()
        .order_by(Service.name)
    )
    contacts = session.exec(
        select(Contact, Municipality)
        .join(Municipality, Municipality.id == Contact.municipality_id)
        .where(Contact.municipality_id.in_(ids))
        .order_by(Contact.name)
    )
    units = session.exec(
        select(Unit, Service)
        .join(Service, Service.id == Unit.service_id)
        .where(Unit.municipality_id.in_(ids))
        .order_by(Unit.name)
    )
    merged_from = session.exec(
        select(Municipality, MunicipalityChange)
        .join(MunicipalityChange, MunicipalityChange.predecessor_id == Municipality.id)
        .where(MunicipalityChange.successor_id == municipality.id)
        .order_by(Municipality.number)
    )
    merged_into = session.exec(
        select(Municipality, MunicipalityChange)
        .join(MunicipalityChange, MunicipalityChange.successor_id == Municipality.id)
        .where(MunicipalityChange.predecessor_id == municipality.id)
        .order_by(Municipality.number)
    )
    return MunicipalityPage(
        municipality,
        session.get(County, municipality.county_id),
        list(bases),
        list(services),
        list(contacts),
        list(merged_from),
        list(merged_into),
        list(units),
        planned_mergers(session, municipality.id),
    )


@dataclass
class Planned:
    merger: PlannedMerger
    successor: Municipality
    predecessors: list[Municipality]


def planned_mergers(session: Session, municipality_id: int | None = None) -> list[Planned]:
    """Mergers planned and not yet carried out (or cancelled), soonest first; with `municipality_id`, those it
    is in, on either side."""
    query = select(PlannedMerger).where(PlannedMerger.status == MergerStatus.PLANNED)
    if municipality_id is not None:
        query = query.where(
            or_(
                PlannedMerger.successor_id == municipality_id,
                PlannedMerger.id.in_(
                    select(PlannedMergerPart.merger_id).where(PlannedMergerPart.municipality_id == municipality_id)
                ),
            )
        )
    mergers = list(session.exec(query.order_by(PlannedMerger.effective_date, PlannedMerger.id)))
    if not mergers:
        return []
    parts = defaultdict(list)
    for merger_id, predecessor in session.exec(
        select(PlannedMergerPart.merger_id, Municipality)
        .join(Municipality, Municipality.id == PlannedMergerPart.municipality_id)
        .where(PlannedMergerPart.merger_id.in_([m.id for m in mergers]))
    ):
        parts[merger_id].append(predecessor)
    successors = {
        m.id: m
        for m in session.exec(select(Municipality).where(Municipality.id.in_({m.successor_id for m in mergers})))
    }
    return [
        Planned(m, successors[m.successor_id], sorted(parts[m.id], key=lambda p: norwegian_key(p.name)))
        for m in mergers
    ]


@dataclass
class MergerPreview:
    """What a merger would move to the successor, read before anything is written."""

    predecessors: list[Municipality]
    successor: Municipality
    bases: list[tuple[CompetenceBase, Municipality]]
    served_by: list[tuple[Service, Municipality]]
    hosted: list[Service]
    units: list[tuple[Unit, Municipality]]
    contacts: list[tuple[Contact, Municipality]]


def merger_preview(session: Session, predecessors: list[Municipality], successor: Municipality) -> MergerPreview:
    ids = [p.id for p in predecessors]
    return MergerPreview(
        predecessors,
        successor,
        list(
            session.exec(
                select(CompetenceBase, Municipality)
                .join(BaseMembership, BaseMembership.base_id == CompetenceBase.id)
                .join(Municipality, Municipality.id == BaseMembership.municipality_id)
                .where(BaseMembership.municipality_id.in_(ids))
                .order_by(CompetenceBase.name)
            )
        ),
        list(
            session.exec(
                select(Service, Municipality)
                .join(ServiceArea, ServiceArea.service_id == Service.id)
                .join(Municipality, Municipality.id == ServiceArea.municipality_id)
                .where(ServiceArea.municipality_id.in_(ids))
                .order_by(Service.name)
            )
        ),
        list(session.exec(select(Service).where(Service.host_municipality_id.in_(ids)).order_by(Service.name))),
        list(
            session.exec(
                select(Unit, Municipality)
                .join(Municipality, Municipality.id == Unit.municipality_id)
                .where(Unit.municipality_id.in_(ids))
                .order_by(Unit.name)
            )
        ),
        list(
            session.exec(
                select(Contact, Municipality)
                .join(Municipality, Municipality.id == Contact.municipality_id)
                .where(Contact.municipality_id.in_(ids))
                .order_by(Contact.name)
            )
        ),
    )


def services_with_hosts(session: Session, kind: str | None = None) -> list[tuple[Service, Municipality, int]]:
    served = select(ServiceArea.service_id, func.count().label("served")).group_by(ServiceArea.service_id).subquery()
    query = (
        select(Service, Municipality, func.coalesce(served.c.served, 0))
        .join(Municipality, Municipality.id == Service.host_municipality_id)
        .join(served, served.c.service_id == Service.id, isouter=True)
    )
    if kind:
        query = query.where(Service.kind == kind)
    return list(session.exec(query.order_by(Service.name)))


def served_municipalities(session: Session, service_id: int) -> list[Municipality]:
    return list(
        session.exec(
            select(Municipality)
            .join(ServiceArea, ServiceArea.municipality_id == Municipality.id)
            .where(ServiceArea.service_id == service_id)
            .order_by(Municipality.name)
        )
    )


def service_units(session: Session, service_id: int) -> list[tuple[Unit, Municipality | None]]:
    return list(
        session.exec(
            select(Unit, Municipality)
            .join(Municipality, Municipality.id == Unit.municipality_id, isouter=True)
            .where(Unit.service_id == service_id)
            .order_by(Unit.name)
        )
    )


def service_choices(session: Session) -> list[tuple[int, str]]:
    return [(s.id, s.name) for s in session.exec(select(Service).order_by(Service.name))]


def base_choices(session: Session) -> list[tuple[int, str]]:
    return [(b.id, b.name) for b in session.exec(select(CompetenceBase).order_by(CompetenceBase.name))]
