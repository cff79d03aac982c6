"""Every change to the materials library: upload a material, add a version, change its details, delete it.

The details are checked before the file is stored, so a refused form stores nothing; a file stored in a
transaction that then rolls back is removed again (storage.py), so a refusal never leaves a file behind.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from sqlmodel import Session, delete, select

from nettverk import policy
from nettverk.activity import record
from nettverk.competence.models import CompetenceArea
from nettverk.db import lock_for_update
from nettverk.errors import OperationError
from nettverk.events.models import Event
from nettverk.materials import storage
from nettverk.materials.models import (
    MATERIAL_AUDIENCES,
    Material,
    MaterialArea,
    MaterialAudience,
    MaterialEvent,
    MaterialVersion,
)
from nettverk.networks.models import NetworkBase
from nettverk.registry.models import CompetenceBase
from nettverk.timeutil import utcnow


@dataclass
class MaterialData:
    title: str
    published_on: date | None = None
    description: str = ""
    author: str = ""
    audience: str = MaterialAudience.EVERYONE
    network_id: int | None = None
    area_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)


@dataclass
class Upload:
    stream: BinaryIO
    filename: str
    note: str = ""


LIMITS = {"title": 200, "description": 4000, "author": 200}


def _validate(session: Session, base: CompetenceBase, data: MaterialData) -> None:
    data.title = (data.title or "").strip()
    if not data.title:
        raise OperationError("Skriv en tittel.", "title")
    for name, limit in LIMITS.items():
        if len(getattr(data, name) or "") > limit:
            raise OperationError(f"Høyst {limit} tegn.", name)
    if data.published_on is None:
        raise OperationError("Skriv datoen materiellet er fra.", "published_on")
    if data.audience not in MATERIAL_AUDIENCES:
        raise OperationError("Velg hvem materiellet er for.", "audience")
    if data.audience == MaterialAudience.NETWORK:
        if data.network_id is None:
            raise OperationError("Velg nettverket når materiellet bare er for medlemmene i et nettverk.", "network_id")
        in_base = session.exec(
            select(NetworkBase).where(NetworkBase.network_id == data.network_id, NetworkBase.base_id == base.id)
        ).first()
        if in_base is None:
            raise OperationError("Velg et nettverk i kompetansebasen.", "network_id")
    else:
        data.network_id = None
    data.area_ids = sorted(set(data.area_ids))
    if data.area_ids:
        known = set(session.exec(select(CompetenceArea.id).where(CompetenceArea.id.in_(data.area_ids))))
        if known != set(data.area_ids):
            raise OperationError("Ukjent kompetanseområde. Velg områder fra listen.", "area_ids")
    data.event_ids = sorted(set(data.event_ids))
    for event_id in data.event_ids:
        event = session.get(Event, event_id)
        if event is None or base.id not in policy.event_base_ids(event):
            raise OperationError("Velg samlinger i kompetansebasen fra listen.", "event_ids")


def _set_links(session: Session, material: Material, data: MaterialData) -> None:
    session.exec(delete(MaterialArea).where(MaterialArea.material_id == material.id))
    session.exec(delete(MaterialEvent).where(MaterialEvent.material_id == material.id))
    session.add_all([MaterialArea(material_id=material.id, area_id=a) for a in data.area_ids])
    session.add_all([MaterialEvent(material_id=material.id, event_id=e) for e in data.event_ids])


def _new_version(session: Session, actor_id: int | None, material: Material, upload: Upload) -> MaterialVersion:
    if len(upload.note or "") > 500:
        raise OperationError("Høyst 500 tegn.", "note")
    stored = storage.store(session, upload.stream, upload.filename)
    material.current_version += 1
    material.updated_at = utcnow()
    version = MaterialVersion(
        material_id=material.id,
        number=material.current_version,
        original_name=stored.original_name,
        stored_name=stored.stored_name,
        kind=stored.kind.key,
        content_type=stored.kind.mimetype,
        size=stored.size,
        sha256=stored.sha256,
        note=(upload.note or "").strip(),
        uploaded_by_id=actor_id,
    )
    session.add(material)
    session.add(version)
    return version


def create_material(
    session: Session, actor_id: int | None, base: CompetenceBase, data: MaterialData, upload: Upload
) -> Material:
    _validate(session, base, data)
    material = Material(
        base_id=base.id,
        title=data.title,
        description=(data.description or "").strip(),
        author=(data.author or "").strip(),
        owner_id=actor_id,
        published_on=data.published_on,
        audience=data.audience,
        network_id=data.network_id,
    )
    session.add(material)
    session.flush()
    version = _new_version(session, actor_id, material, upload)
    _set_links(session, material, data)
    session.flush()
    record(
        session,
        actor_id,
        "material.created",
        material,
        f"{material.title}: {version.original_name} ({version.size} byte)",
    )
    return material


def add_version(session: Session, actor_id: int | None, material: Material, upload: Upload) -> MaterialVersion:
    """A new file for the material; the old versions are kept. The material row is locked, so two
    uploads at once get versions n+1 and n+2."""
    material = lock_for_update(session, Material, material.id)
    version = _new_version(session, actor_id, material, upload)
    session.flush()
    record(
        session,
        actor_id,
        "material.version_added",
        material,
        f"versjon {version.number}: {version.original_name} ({version.size} byte)",
    )
    return version


def update_material(session: Session, actor_id: int | None, material: Material, data: MaterialData) -> Material:
    base = session.get(CompetenceBase, material.base_id)
    _validate(session, base, data)
    material.title, material.description = data.title, (data.description or "").strip()
    material.author, material.published_on = (data.author or "").strip(), data.published_on
    material.audience, material.network_id = data.audience, data.network_id
    material.updated_at = utcnow()
    session.add(material)
    _set_links(session, material, data)
    session.flush()
    record(session, actor_id, "material.updated", material, material.title)
    return material


def delete_material(session: Session, actor_id: int | None, material: Material) -> None:
    """The material, its links and every version; the files are removed once this is committed."""
    for version in session.exec(select(MaterialVersion).where(MaterialVersion.material_id == material.id)):
        storage.remove_after_commit(session, version.stored_name)
    session.exec(delete(MaterialArea).where(MaterialArea.material_id == material.id))
    session.exec(delete(MaterialEvent).where(MaterialEvent.material_id == material.id))
    session.exec(delete(MaterialVersion).where(MaterialVersion.material_id == material.id))
    record(session, actor_id, "material.deleted", material, material.title)
    session.delete(material)
    session.flush()
