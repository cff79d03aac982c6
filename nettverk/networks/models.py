"""Networks: standing groups (BTI-nettverk, barnevernledernettverk, drøftingsteam) that meet on a cadence."""

from datetime import date, time
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class NetworkKind(StrEnum):
    BTI = "bti"  # its ressurspersoner and meetings make the base's BTI coverage
    LEDERE = "ledere"
    DROFTING = "drofting"
    FAGNETTVERK = "fagnettverk"
    ANNET = "annet"


NETWORK_KINDS: dict[str, str] = {
    NetworkKind.BTI: "BTI-nettverk",
    NetworkKind.LEDERE: "Ledernettverk",
    NetworkKind.DROFTING: "Drøftingsteam",
    NetworkKind.FAGNETTVERK: "Fagnettverk",
    NetworkKind.ANNET: "Annet nettverk",
}


class MemberKind(StrEnum):
    RESSURSPERSON = "ressursperson"
    LEDER = "leder"
    ANNET = "annet"


MEMBER_KINDS: dict[str, str] = {
    MemberKind.RESSURSPERSON: "Ressursperson",
    MemberKind.LEDER: "Leder",
    MemberKind.ANNET: "Annet",
}


class Network(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=160)
    kind: str = Field(default=NetworkKind.BTI, max_length=20)
    description: str = Field(default="", max_length=4000)
    # RFC 5545 recurrence rule, e.g. FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU (second Tuesday of March and October)
    cadence: str = Field(default="", max_length=300)
    cadence_start: date | None = None
    meeting_start: time = Field(default=time(9, 0))
    meeting_minutes: int = Field(default=180)
    venue_name: str = Field(default="", max_length=200)
    venue_address: str = Field(default="", max_length=300)
    host_municipality_id: int | None = Field(default=None, foreign_key="municipality.id")


class NetworkBase(SQLModel, table=True):
    """A network belongs to one or more kompetansebaser; their coordinators plan it."""

    __tablename__ = "network_base"
    network_id: int = Field(foreign_key="network.id", primary_key=True)
    base_id: int = Field(foreign_key="competence_base.id", primary_key=True, index=True)


class NetworkMember(SQLModel, table=True):
    __tablename__ = "network_member"
    __table_args__ = (UniqueConstraint("network_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    kind: str = Field(default=MemberKind.RESSURSPERSON, max_length=20)
    joined_on: date
