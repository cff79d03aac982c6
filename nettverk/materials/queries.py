"""Read side of the materials library: what a person may see (policy.material_access as SQL), the
library of a base with its search, a material's page, the materials of a gathering.

Lists load their rows, current versions, areas and gatherings in a fixed number of queries, however
many materials there are.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, false, or_, true
from sqlmodel import Session, select

from nettverk.competence.models import CompetenceArea
from nettverk.events.models import Event, EventStatus
from nettverk.materials.models import Material, MaterialArea, MaterialAudience, MaterialEvent, MaterialVersion
from nettverk.networks.models import Network, NetworkBase
from nettverk.policy import MaterialAccess
from nettverk.registry.models import CompetenceBase
from nettverk.text import norwegian_key

MAX_SEARCH = 100


@dataclass
class MaterialRow:
    material: Material
    base: CompetenceBase
    version: MaterialVersion | None  # the current one
    areas: list[CompetenceArea] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def visible(access: MaterialAccess):
    """The SQL condition for the materials a person may see (the same rule as policy.sees_material)."""
    if access.everything:
        return true()
    if access.user_id is None:
        return false()
    return or_(
        Material.audience == MaterialAudience.EVERYONE,
        Material.base_id.in_(access.kept),
        Material.owner_id == access.user_id,
        and_(Material.audience == MaterialAudience.BASE, Material.base_id.in_(access.member_of)),
        and_(Material.audience == MaterialAudience.NETWORK, Material.network_id.in_(access.networks)),
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def materials(
    session: Session,
    access: MaterialAccess,
    base_id: int | None = None,
    search: str = "",
    area_id: int | None = None,
    event_id: int | None = None,
) -> list[MaterialRow]:
    """Materials the person may see, newest first: of one base or all, with the title containing
    `search`, about an area, from a gathering."""
    query = select(Material).where(visible(access))
    if base_id is not None:
        query = query.where(Material.base_id == base_id)
    if search:
        query = query.where(Material.title.ilike(_like(search), escape="\\"))
    if area_id is not None:
        query = query.where(Material.id.in_(select(MaterialArea.material_id).where(MaterialArea.area_id == area_id)))
    if event_id is not None:
        query = query.where(
            Material.id.in_(select(MaterialEvent.material_id).where(MaterialEvent.event_id == event_id))
        )
    found = list(session.exec(query.order_by(Material.published_on.desc(), Material.title, Material.id)))
    return rows_for(session, found)


def rows_for(session: Session, found: list[Material]) -> list[MaterialRow]:
    if not found:
        return []
    ids = [m.id for m in found]
    bases = {
        b.id: b for b in session.exec(select(CompetenceBase).where(CompetenceBase.id.in_({m.base_id for m in found})))
    }
    versions = {
        v.material_id: v
        for v in session.exec(
            select(MaterialVersion)
            .join(
                Material,
                and_(Material.id == MaterialVersion.material_id, Material.current_version == MaterialVersion.number),
            )
            .where(MaterialVersion.material_id.in_(ids))
        )
    }
    rows = {m.id: MaterialRow(m, bases[m.base_id], versions.get(m.id)) for m in found}
    for link, area in session.exec(
        select(MaterialArea, CompetenceArea)
        .join(CompetenceArea, CompetenceArea.id == MaterialArea.area_id)
        .where(MaterialArea.material_id.in_(ids))
        .order_by(CompetenceArea.name)
    ):
        rows[link.material_id].areas.append(area)
    for link, event in session.exec(
        select(MaterialEvent, Event)
        .join(Event, Event.id == MaterialEvent.event_id)
        .where(MaterialEvent.material_id.in_(ids))
        .order_by(Event.starts_at)
    ):
        rows[link.material_id].events.append(event)
    return list(rows.values())


def versions(session: Session, material: Material) -> list[MaterialVersion]:
    """Every version, newest first."""
    return list(
        session.exec(
            select(MaterialVersion)
            .where(MaterialVersion.material_id == material.id)
            .order_by(MaterialVersion.number.desc())
        )
    )


def version(session: Session, material: Material, number: int) -> MaterialVersion | None:
    return session.exec(
        select(MaterialVersion).where(MaterialVersion.material_id == material.id, MaterialVersion.number == number)
    ).first()


def of_event(session: Session, event: Event, access: MaterialAccess) -> list[MaterialRow]:
    """The materials of a gathering the person may see."""
    found = list(
        session.exec(
            select(Material)
            .join(MaterialEvent, MaterialEvent.material_id == Material.id)
            .where(MaterialEvent.event_id == event.id, visible(access))
            .order_by(Material.title, Material.id)
        )
    )
    return rows_for(session, found)


# Choices for forms and filters ---------------------------------------------------------------------


def areas(session: Session) -> list[CompetenceArea]:
    return sorted(
        session.exec(select(CompetenceArea).where(CompetenceArea.active)), key=lambda a: norwegian_key(a.name)
    )


def base_networks(session: Session, base: CompetenceBase) -> list[Network]:
    return list(
        session.exec(
            select(Network)
            .join(NetworkBase, NetworkBase.network_id == Network.id)
            .where(NetworkBase.base_id == base.id)
            .order_by(Network.name)
        )
    )


MAX_EVENT_CHOICES = 200


def _of_base(base: CompetenceBase):
    """Gatherings of a base: its own, and the meetings of its networks."""
    return or_(
        Event.base_id == base.id,
        Event.network_id.in_(select(NetworkBase.network_id).where(NetworkBase.base_id == base.id)),
    )


def base_events(session: Session, base: CompetenceBase) -> list[Event]:
    """Gatherings a material of the base can be linked to: not drafts or cancelled ones, newest first."""
    return list(
        session.exec(
            select(Event)
            .where(_of_base(base), Event.status.not_in((EventStatus.DRAFT, EventStatus.CANCELLED)))
            .order_by(Event.starts_at.desc())
            .limit(MAX_EVENT_CHOICES)
        )
    )


def events_with_materials(session: Session, base: CompetenceBase, access: MaterialAccess) -> list[Event]:
    """The gatherings that have materials the person may see in this base (the library's filter)."""
    linked = (
        select(MaterialEvent.event_id)
        .join(Material, Material.id == MaterialEvent.material_id)
        .where(Material.base_id == base.id, visible(access))
    )
    return list(session.exec(select(Event).where(Event.id.in_(linked)).order_by(Event.starts_at.desc())))
