"""Registry tables: counties, municipalities and their history, kompetansebaser, services, units, contacts."""

from datetime import date
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

SERVICE_KINDS = {
    "barnevern": "Barneverntjeneste",
    "ppt": "PPT",
    "helsestasjon": "Helsestasjon og skolehelsetjeneste",
    "psykisk_helse_rus": "Psykisk helse og rus",
    "nav": "NAV",
    "familievern": "Familievern",
    "barnehage": "Barnehage",
    "skole": "Skole",
    "bup": "BUP",
    "annet": "Annen tjeneste",
}


class County(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=2, unique=True)
    name: str = Field(max_length=100)


class Municipality(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=4, unique=True)
    name: str = Field(max_length=100, index=True)
    sami_name: str | None = Field(default=None, max_length=100)
    county_id: int = Field(foreign_key="county.id", index=True)
    # A municipality that was merged away keeps its row, with the day it ended.
    valid_to: date | None = Field(default=None)

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.sami_name})" if self.sami_name else self.name

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class MunicipalityChange(SQLModel, table=True):
    """One edge of history: (part of) predecessor became (part of) successor on a date."""

    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id"),)
    id: int | None = Field(default=None, primary_key=True)
    predecessor_id: int = Field(foreign_key="municipality.id", index=True)
    successor_id: int = Field(foreign_key="municipality.id", index=True)
    effective_date: date
    # A split municipality (Snillfjord 2020) went to several successors, each taking a part.
    partial: bool = Field(default=False)


class CompetenceBase(SQLModel, table=True):
    __tablename__ = "competence_base"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=120, unique=True)
    description: str = Field(default="", max_length=4000)


class BaseMembership(SQLModel, table=True):
    __tablename__ = "base_membership"
    base_id: int = Field(foreign_key="competence_base.id", primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True, index=True)
    # The material does not list exact memberships; seeded ones are marked as demo data.
    is_demo: bool = Field(default=False)


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=160)
    kind: str = Field(max_length=30, index=True)
    host_municipality_id: int = Field(foreign_key="municipality.id", index=True)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    description: str = Field(default="", max_length=4000)


class ServiceArea(SQLModel, table=True):
    """A municipality served by a service (the host municipality is always one of them)."""

    __tablename__ = "service_area"
    service_id: int = Field(foreign_key="service.id", primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True, index=True)


class Unit(SQLModel, table=True):
    """A workplace inside a service: a school, a kindergarten, a health station."""

    __table_args__ = (UniqueConstraint("service_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    name: str = Field(max_length=160)
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)


class Contact(SQLModel, table=True):
    """A contact person of a municipality (kontaktperson), optionally for one service."""

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    name: str = Field(max_length=160)
    role: str = Field(default="", max_length=160)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)


class MergerStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class PlannedMerger(SQLModel, table=True):
    """A merger registered before its date. Nothing changes until the scheduler's job `mergers` carries it
    out on that day (status done); until then the admin can cancel it (status cancelled)."""

    __tablename__ = "planned_merger"
    id: int | None = Field(default=None, primary_key=True)
    successor_id: int = Field(foreign_key="municipality.id", index=True)
    effective_date: date = Field(index=True)
    status: str = Field(default=MergerStatus.PLANNED, max_length=10)


class PlannedMergerPart(SQLModel, table=True):
    """A municipality that ends when its planned merger is carried out."""

    __tablename__ = "planned_merger_part"
    merger_id: int = Field(foreign_key="planned_merger.id", primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True, index=True)
