"""Every change to the registry: validated here, logged here, flushed so errors surface before commit."""

import re
from datetime import date, timedelta

from sqlmodel import Session, delete, select, update

from nettverk.activity import record
from nettverk.errors import OperationError
from nettverk.registry.models import (
    SERVICE_KINDS,
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
from nettverk.registry.queries import with_predecessors
from nettverk.text import slugify
from nettverk.timeutil import format_short_date

MUNICIPALITY_NUMBER = re.compile(r"^\d{4}$")
COUNTY_NUMBER = re.compile(r"^\d{2}$")


def _clean(value: str | None) -> str:
    return (value or "").strip()


# Counties -----------------------------------------------------------------------------------------


def save_county(session: Session, actor_id: int | None, number: str, name: str, county: County | None = None) -> County:
    number, name = _clean(number), _clean(name)
    if not COUNTY_NUMBER.match(number):
        raise OperationError("Fylkesnummeret må være to sifre, for eksempel 50.", "number")
    if not name:
        raise OperationError("Skriv navnet på fylket.", "name")
    clash = session.exec(select(County).where(County.number == number)).first()
    if clash is not None and clash is not county:
        raise OperationError(f"Fylkesnummer {number} er allerede brukt av {clash.name}.", "number", 409)
    created = county is None
    county = county or County(number=number, name=name)
    county.number, county.name = number, name
    session.add(county)
    session.flush()
    record(session, actor_id, "county.created" if created else "county.updated", county, f"{number} {name}")
    return county


# Municipalities -----------------------------------------------------------------------------------


def save_municipality(
    session: Session,
    actor_id: int | None,
    number: str,
    name: str,
    county_id: int,
    sami_name: str | None = None,
    municipality: Municipality | None = None,
) -> Municipality:
    number, name, sami_name = _clean(number), _clean(name), _clean(sami_name) or None
    if not MUNICIPALITY_NUMBER.match(number):
        raise OperationError("Kommunenummeret må være nøyaktig fire sifre, for eksempel 5054.", "number")
    if not name:
        raise OperationError("Skriv navnet på kommunen.", "name")
    if session.get(County, county_id) is None:
        raise OperationError("Velg et fylke som finnes.", "county_id")
    clash = session.exec(select(Municipality).where(Municipality.number == number)).first()
    if clash is not None and clash is not municipality:
        raise OperationError(f"Kommunenummer {number} er allerede brukt av {clash.name}.", "number", 409)
    created = municipality is None
    municipality = municipality or Municipality(number=number, name=name, county_id=county_id)
    municipality.number, municipality.name = number, name
    municipality.sami_name, municipality.county_id = sami_name, county_id
    session.add(municipality)
    session.flush()
    record(
        session,
        actor_id,
        "municipality.created" if created else "municipality.updated",
        municipality,
        f"{number} {name}",
    )
    return municipality


def check_merger(
    session: Session,
    predecessor_ids: list[int],
    successor_id: int | None,
    effective_date: date,
    planned: PlannedMerger | None = None,
) -> tuple[list[Municipality], Municipality]:
    """The predecessors and the successor of a merger that may be registered (or, with `planned`, carried
    out now); reads only, so the preview can show what would move. A municipality is in at most one
    planned merger as one that ends, so mergers planned ahead cannot undo or block each other."""
    successor = session.get(Municipality, successor_id) if successor_id else None
    if successor is None:
        raise OperationError("Velg kommunen det slås sammen til.", "successor_id")
    if not successor.is_current:
        raise OperationError(f"{successor.name} er selv avviklet og kan ikke være ny kommune.", "successor_id")
    predecessors = [session.get(Municipality, pid) for pid in dict.fromkeys(predecessor_ids or [])]
    if not predecessors or any(p is None for p in predecessors):
        raise OperationError("Velg minst én kommune som slås sammen.", "predecessor_ids")
    if successor in predecessors:
        raise OperationError(f"{successor.name} kan ikke slås sammen med seg selv.", "predecessor_ids")
    already_under = with_predecessors(session, successor.id)
    for predecessor in predecessors:
        if not predecessor.is_current:
            raise OperationError(
                f"{predecessor.name} ble avviklet {predecessor.valid_to:%d.%m.%Y} og kan ikke slås sammen på nytt.",
                "predecessor_ids",
            )
        if predecessor.id in already_under or successor.id in with_predecessors(session, predecessor.id):
            raise OperationError(
                f"Sammenslåingen ville gitt en sirkel i historikken til {predecessor.name}.", "predecessor_ids"
            )
    others = [PlannedMerger.status == MergerStatus.PLANNED, *([PlannedMerger.id != planned.id] if planned else [])]
    ending = dict(
        session.exec(
            select(PlannedMergerPart.municipality_id, PlannedMerger)
            .join(PlannedMerger, PlannedMerger.id == PlannedMergerPart.merger_id)
            .where(*others)
        ).all()
    )
    receiving = {m.successor_id: m for m in session.exec(select(PlannedMerger).where(*others))}
    for predecessor in predecessors:
        clash = ending.get(predecessor.id) or receiving.get(predecessor.id)
        if clash is not None:
            raise OperationError(
                f"{predecessor.name} er med i en planlagt sammenslåing fra "
                f"{format_short_date(clash.effective_date)}. Avbryt den først.",
                "predecessor_ids",
            )
    clash = ending.get(successor.id)
    if clash is not None and clash.effective_date <= effective_date:  # it must still exist on this date
        raise OperationError(
            f"{successor.name} skal selv slås sammen fra {format_short_date(clash.effective_date)} "
            "og kan ikke ta imot kommuner fra den dagen.",
            "successor_id",
        )
    return predecessors, successor


def merge_municipalities(
    session: Session,
    actor_id: int | None,
    predecessor_ids: list[int],
    successor_id: int,
    effective_date: date,
    planned: PlannedMerger | None = None,
) -> Municipality:
    """Merge municipalities into a successor from `effective_date`, now.

    The predecessors end the day before and get the successor in their history; their base
    memberships, service areas, hosted services, units and contacts move to the successor, so
    everything linked to them is found there. Older rows that point at a predecessor (events,
    referrals) are found through the history (registry.queries.with_predecessors).
    """
    predecessors, successor = check_merger(session, predecessor_ids, successor_id, effective_date, planned)
    old_ids = [p.id for p in predecessors]
    for predecessor in predecessors:
        predecessor.valid_to = effective_date - timedelta(days=1)
        session.add(
            MunicipalityChange(predecessor_id=predecessor.id, successor_id=successor.id, effective_date=effective_date)
        )
        session.add(predecessor)
    _move_links(session, old_ids, successor.id)
    session.flush()
    names = ", ".join(p.name for p in predecessors)
    record(
        session,
        actor_id,
        "municipality.merged",
        successor,
        f"{names} slått sammen til {successor.number} {successor.name} fra {effective_date:%d.%m.%Y}",
    )
    return successor


def register_merger(
    session: Session,
    actor_id: int | None,
    predecessor_ids: list[int],
    successor_id: int,
    effective_date: date,
    today: date,
) -> tuple[Municipality, PlannedMerger | None]:
    """What the admin confirms. Dated today or earlier: carried out now. Later: only planned, and nothing
    else changes until the job `mergers` carries it out on its date (the admin can cancel it until then)."""
    if effective_date <= today:
        return merge_municipalities(session, actor_id, predecessor_ids, successor_id, effective_date), None
    predecessors, successor = check_merger(session, predecessor_ids, successor_id, effective_date)
    merger = PlannedMerger(successor_id=successor.id, effective_date=effective_date)
    session.add(merger)
    session.flush()
    session.add_all(PlannedMergerPart(merger_id=merger.id, municipality_id=p.id) for p in predecessors)
    session.flush()
    record(
        session,
        actor_id,
        "municipality.merger_planned",
        successor,
        f"{', '.join(p.name for p in predecessors)} slås sammen med {successor.number} {successor.name} "
        f"fra {effective_date:%d.%m.%Y}",
    )
    return successor, merger


def cancel_merger(session: Session, actor_id: int | None, merger: PlannedMerger) -> None:
    """Undo a planned merger before its date: it was never carried out, so nothing else changes."""
    if merger.status != MergerStatus.PLANNED:
        raise OperationError("Bare en planlagt sammenslåing som ikke er gjennomført, kan avbrytes.", status=409)
    merger.status = MergerStatus.CANCELLED
    session.add(merger)
    session.flush()
    record(
        session,
        actor_id,
        "municipality.merger_cancelled",
        session.get(Municipality, merger.successor_id),
        f"Planlagt sammenslåing fra {merger.effective_date:%d.%m.%Y} avbrutt",
    )


def carry_out_merger(session: Session, merger: PlannedMerger) -> bool:
    """Carry out a planned merger whose date has come, once: the status is claimed in the same transaction
    (a second run, or a second scheduler, finds it taken and does nothing). False: it was taken."""
    claimed = session.execute(
        update(PlannedMerger)
        .where(PlannedMerger.id == merger.id, PlannedMerger.status == MergerStatus.PLANNED)
        .values(status=MergerStatus.DONE)
    )
    if claimed.rowcount != 1:
        return False
    part_ids = list(
        session.exec(select(PlannedMergerPart.municipality_id).where(PlannedMergerPart.merger_id == merger.id))
    )
    merge_municipalities(session, None, part_ids, merger.successor_id, merger.effective_date, planned=merger)
    return True


def _move_links(session: Session, old_ids: list[int], new_id: int) -> None:
    for base_id in session.exec(
        select(BaseMembership.base_id).where(BaseMembership.municipality_id.in_(old_ids)).distinct()
    ).all():
        if session.get(BaseMembership, (base_id, new_id)) is None:
            session.add(BaseMembership(base_id=base_id, municipality_id=new_id))
    for service_id in session.exec(
        select(ServiceArea.service_id).where(ServiceArea.municipality_id.in_(old_ids)).distinct()
    ).all():
        if session.get(ServiceArea, (service_id, new_id)) is None:
            session.add(ServiceArea(service_id=service_id, municipality_id=new_id))
    session.flush()
    session.execute(delete(BaseMembership).where(BaseMembership.municipality_id.in_(old_ids)))
    session.execute(delete(ServiceArea).where(ServiceArea.municipality_id.in_(old_ids)))
    for model, column in (
        (Service, Service.host_municipality_id),
        (Unit, Unit.municipality_id),
        (Contact, Contact.municipality_id),
    ):
        for row in session.exec(select(model).where(column.in_(old_ids))):
            setattr(row, column.key, new_id)
            session.add(row)


# Kompetansebaser ----------------------------------------------------------------------------------


def save_base(
    session: Session, actor_id: int | None, name: str, description: str = "", base: CompetenceBase | None = None
) -> CompetenceBase:
    name, description = _clean(name), _clean(description)
    if not name:
        raise OperationError("Skriv navnet på kompetansebasen.", "name")
    clash = session.exec(select(CompetenceBase).where(CompetenceBase.name == name)).first()
    if clash is not None and clash is not base:
        raise OperationError(f"Det finnes allerede en kompetansebase som heter {name}.", "name", 409)
    created = base is None
    if created:
        base = CompetenceBase(name=name, slug=_unique_slug(session, CompetenceBase, name))
    base.name, base.description = name, description
    session.add(base)
    session.flush()
    record(session, actor_id, "base.created" if created else "base.updated", base, name)
    return base


def add_member(
    session: Session, actor_id: int | None, base: CompetenceBase, municipality_id: int, is_demo: bool = False
) -> None:
    municipality = session.get(Municipality, municipality_id)
    if municipality is None or not municipality.is_current:
        raise OperationError("Velg en kommune som finnes i dag.", "municipality_id")
    if session.get(BaseMembership, (base.id, municipality.id)) is not None:
        raise OperationError(f"{municipality.name} er allerede med i {base.name}.", "municipality_id", 409)
    session.add(BaseMembership(base_id=base.id, municipality_id=municipality.id, is_demo=is_demo))
    session.flush()
    record(session, actor_id, "base.member_added", base, f"{municipality.name} lagt til i {base.name}")


def remove_member(session: Session, actor_id: int | None, base: CompetenceBase, municipality: Municipality) -> None:
    membership = session.get(BaseMembership, (base.id, municipality.id))
    if membership is None:
        raise OperationError(f"{municipality.name} er ikke med i {base.name}.", status=404)
    session.delete(membership)
    session.flush()
    record(session, actor_id, "base.member_removed", base, f"{municipality.name} fjernet fra {base.name}")


# Services and units -------------------------------------------------------------------------------


def save_service(
    session: Session,
    actor_id: int | None,
    name: str,
    kind: str,
    host_municipality_id: int | None,
    served_ids: list[int],
    email: str | None = None,
    phone: str | None = None,
    description: str = "",
    service: Service | None = None,
) -> Service:
    name = _clean(name)
    if not name:
        raise OperationError("Skriv navnet på tjenesten.", "name")
    if kind not in SERVICE_KINDS:
        raise OperationError("Velg en type tjeneste fra listen.", "kind")
    host = session.get(Municipality, host_municipality_id) if host_municipality_id else None
    if host is None:
        raise OperationError("En tjeneste må ha en vertskommune.", "host_municipality_id")
    if not host.is_current:
        raise OperationError(f"{host.name} er avviklet og kan ikke være vertskommune.", "host_municipality_id")
    served = {host.id} | set(served_ids)
    found = session.exec(select(Municipality).where(Municipality.id.in_(served))).all()
    if len(found) != len(served) or any(not m.is_current for m in found):
        raise OperationError("Velg bare kommuner som finnes i dag.", "served_ids")
    created = service is None
    if created:
        service = Service(
            name=name,
            kind=kind,
            host_municipality_id=host.id,
            slug=_unique_slug(session, Service, f"{name} {host.name}"),
        )
    service.name, service.kind, service.host_municipality_id = name, kind, host.id
    service.email, service.phone = _clean(email) or None, _clean(phone) or None
    service.description = _clean(description)
    session.add(service)
    session.flush()
    session.execute(
        delete(ServiceArea).where(ServiceArea.service_id == service.id, ServiceArea.municipality_id.not_in(served))
    )
    existing = set(session.exec(select(ServiceArea.municipality_id).where(ServiceArea.service_id == service.id)))
    for municipality_id in sorted(served - existing):
        session.add(ServiceArea(service_id=service.id, municipality_id=municipality_id))
    session.flush()
    record(
        session,
        actor_id,
        "service.created" if created else "service.updated",
        service,
        f"{name}, vertskommune {host.name}, betjener {len(served)} kommuner",
    )
    return service


def save_unit(
    session: Session,
    actor_id: int | None,
    service: Service,
    name: str,
    municipality_id: int | None = None,
    unit: Unit | None = None,
) -> Unit:
    name = _clean(name)
    if not name:
        raise OperationError("Skriv navnet på enheten.", "name")
    if municipality_id is not None and session.get(ServiceArea, (service.id, municipality_id)) is None:
        raise OperationError(f"Enheten må ligge i en kommune som {service.name} betjener.", "municipality_id")
    clash = session.exec(select(Unit).where(Unit.service_id == service.id, Unit.name == name)).first()
    if clash is not None and clash is not unit:
        raise OperationError(f"{service.name} har allerede en enhet som heter {name}.", "name", 409)
    created = unit is None
    unit = unit or Unit(service_id=service.id, name=name)
    unit.name, unit.municipality_id = name, municipality_id
    session.add(unit)
    session.flush()
    record(session, actor_id, "unit.created" if created else "unit.updated", unit, f"{name} ({service.name})")
    return unit


# Contacts -----------------------------------------------------------------------------------------


def save_contact(
    session: Session,
    actor_id: int | None,
    municipality: Municipality,
    name: str,
    role: str = "",
    email: str | None = None,
    phone: str | None = None,
    service_id: int | None = None,
    contact: Contact | None = None,
) -> Contact:
    name = _clean(name)
    if not name:
        raise OperationError("Skriv navnet på kontaktpersonen.", "name")
    if service_id is not None and session.get(Service, service_id) is None:
        raise OperationError("Velg en tjeneste som finnes.", "service_id")
    created = contact is None
    contact = contact or Contact(municipality_id=municipality.id, name=name)
    contact.name, contact.role, contact.service_id = name, _clean(role), service_id
    contact.email, contact.phone = (_clean(email).lower() or None), (_clean(phone) or None)
    session.add(contact)
    session.flush()
    record(
        session, actor_id, "contact.created" if created else "contact.updated", contact, f"{name} ({municipality.name})"
    )
    return contact


def delete_contact(session: Session, actor_id: int | None, contact: Contact) -> None:
    record(session, actor_id, "contact.deleted", contact, contact.name)
    session.delete(contact)
    session.flush()


def _unique_slug(session: Session, model, text: str) -> str:
    base = slugify(text)[:70]
    slug, n = base, 2
    while session.exec(select(model).where(model.slug == slug)).first() is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug
