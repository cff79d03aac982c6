"""Competence areas (methods, programmes, tools) and people's competence records.

A record belongs to a person; it always counts in aggregates (the base matrix), but the person's name
and contact are shown to others only when their `CompetenceProfile.contactable` is on (opt-in).
A record made from course attendance (`source == "attendance"`) carries the event: one attendance
gives at most one record (unique user + event), whoever marks it and however often.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow


class AreaKind(StrEnum):
    SCREENING = "screening"
    PARENT_PROGRAMME = "parent_programme"
    GUIDANCE = "guidance"
    COOPERATION = "cooperation"
    COURSE = "course"


AREA_KINDS: dict[str, str] = {
    AreaKind.SCREENING: "Kartleggingsverktøy",
    AreaKind.PARENT_PROGRAMME: "Foreldreprogram",
    AreaKind.GUIDANCE: "Veiledningsmetode",
    AreaKind.COOPERATION: "Samarbeidsmodell",
    AreaKind.COURSE: "Kurs",
}


class CompetenceLevel(StrEnum):
    """From lowest to highest: "at least trained" means this level or one after it."""

    AWARENESS = "awareness"
    TRAINED = "trained"
    CERTIFIED = "certified"
    INSTRUCTOR = "instructor"


LEVELS: dict[str, str] = {
    CompetenceLevel.AWARENESS: "Kjennskap",
    CompetenceLevel.TRAINED: "Opplært",
    CompetenceLevel.CERTIFIED: "Sertifisert",
    CompetenceLevel.INSTRUCTOR: "Veileder/instruktør",
}
# Who may guide others in an area (the search "who can guide in X").
GUIDING_LEVELS = (CompetenceLevel.CERTIFIED, CompetenceLevel.INSTRUCTOR)


class RecordSource(StrEnum):
    SELF = "self"
    COORDINATOR = "coordinator"
    ATTENDANCE = "attendance"  # made by operations.sync_attendance, carries the event


SOURCES: dict[str, str] = {
    RecordSource.SELF: "Registrert selv",
    RecordSource.COORDINATOR: "Registrert av koordinator",
    RecordSource.ATTENDANCE: "Fra kursdeltakelse",
}


class CompetenceArea(SQLModel, table=True):
    __tablename__ = "competence_area"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=20, index=True)
    description: str = Field(default="", max_length=2000)
    target_group: str = Field(default="", max_length=300)
    # Certification in this area must be renewed after so many months; None: it does not expire.
    expires_after_months: int | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CompetenceRecord(SQLModel, table=True):
    __tablename__ = "competence_record"
    __table_args__ = (
        # One record per attendance: marking a course attended twice (or by two coordinators at once)
        # cannot give a second record. NULL event ids (records typed in) never collide.
        Index("uq_competence_record_user_event", "user_id", "event_id", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    area_id: int = Field(foreign_key="competence_area.id", index=True)
    level: str = Field(max_length=20)
    achieved_on: date
    issued_by: str = Field(default="", max_length=200)
    expires_on: date | None = Field(default=None, index=True)
    source: str = Field(default=RecordSource.SELF, max_length=12)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CompetenceProfile(SQLModel, table=True):
    """A person's choices about their competence: where they work (for the matrix) and whether others
    may find them by name ("kan kontaktes for veiledning / som foredragsholder")."""

    __tablename__ = "competence_profile"
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    contactable: bool = False
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    updated_at: datetime = Field(default_factory=utcnow)
