"""The materials library (kompetansebank): shared documents of a base, in versions.

A material belongs to one base and is seen by its audience (policy.sees_material): everyone logged in,
the members of the base, or the members of one of the base's networks. Every upload of a file is a new
MaterialVersion; old versions are kept and can be downloaded. The files live outside the database
(storage.py); a version row holds their random stored name, the sanitised original name, the type
detected from the content, the size and the SHA-256.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow


class MaterialAudience(StrEnum):
    EVERYONE = "everyone"
    BASE = "base"
    NETWORK = "network"


MATERIAL_AUDIENCES: dict[str, str] = {
    MaterialAudience.EVERYONE: "Alle innloggede",
    MaterialAudience.BASE: "Medlemmene i kompetansebasen",
    MaterialAudience.NETWORK: "Medlemmene i et nettverk",
}


class Material(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    base_id: int = Field(foreign_key="competence_base.id", index=True)
    title: str = Field(max_length=200, index=True)
    description: str = Field(default="", max_length=4000)
    author: str = Field(default="", max_length=200)  # who made it, e.g. «KoRus Midt» (free text)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    published_on: date
    audience: str = Field(default=MaterialAudience.EVERYONE, max_length=10)
    network_id: int | None = Field(default=None, foreign_key="network.id", index=True)
    current_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MaterialVersion(SQLModel, table=True):
    __tablename__ = "material_version"
    __table_args__ = (UniqueConstraint("material_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    material_id: int = Field(foreign_key="material.id", index=True)
    number: int
    original_name: str = Field(max_length=200)  # sanitised; what a download is called
    stored_name: str = Field(max_length=80, unique=True)  # random, in NETTVERK_MATERIALS_DIR
    kind: str = Field(max_length=10)  # storage.KINDS key, detected from the content
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    note: str = Field(default="", max_length=500)  # what changed in this version
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


class MaterialEvent(SQLModel, table=True):
    """A material from (or for) a gathering."""

    __tablename__ = "material_event"
    material_id: int = Field(foreign_key="material.id", primary_key=True)
    event_id: int = Field(foreign_key="event.id", primary_key=True, index=True)


class MaterialArea(SQLModel, table=True):
    """A material about a competence area."""

    __tablename__ = "material_area"
    material_id: int = Field(foreign_key="material.id", primary_key=True)
    area_id: int = Field(foreign_key="competence_area.id", primary_key=True, index=True)
