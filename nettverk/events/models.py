"""Gatherings and registrations.

An event keeps one identity (id and calendar uid) through every change; `sequence` rises with each
change of time, place or status, as calendar clients expect.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow


class EventKind(StrEnum):
    FAGDAG = "fagdag"
    NETTVERKSMOTE = "nettverksmote"
    SAMLING = "samling"
    KURS = "kurs"  # a course: attendance can give a competence record


EVENT_KINDS: dict[str, str] = {
    EventKind.FAGDAG: "Fagdag",
    EventKind.NETTVERKSMOTE: "Nettverksmøte",
    EventKind.SAMLING: "Samling",
    EventKind.KURS: "Kurs/opplæring",
}


class EventAudience(StrEnum):
    """Who may register (everyone may look at a published event, whatever its audience)."""

    REGION = "region"
    BASE = "base"
    NETWORK = "network"


AUDIENCES: dict[str, str] = {
    EventAudience.REGION: "Alle i regionen",
    EventAudience.BASE: "Kommunene i kompetansebasen",
    EventAudience.NETWORK: "Medlemmene i nettverket",
}


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    HELD = "held"


EVENT_STATUSES: dict[str, str] = {
    EventStatus.DRAFT: "Utkast",
    EventStatus.PUBLISHED: "Publisert",
    EventStatus.CANCELLED: "Avlyst",
    EventStatus.HELD: "Gjennomført",
}


class RegistrationStatus(StrEnum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "cancelled"  # stored as "cancelled", as it always was


REGISTRATION_STATUSES: dict[str, str] = {
    RegistrationStatus.UNCONFIRMED: "Venter på bekreftelse",
    RegistrationStatus.CONFIRMED: "Påmeldt",
    RegistrationStatus.WAITLISTED: "På venteliste",
    RegistrationStatus.WITHDRAWN: "Avmeldt",
}


class Event(SQLModel, table=True):
    __table_args__ = (
        # One meeting per occurrence of a network's cadence, so planning twice at once cannot duplicate it
        # (NULLs never collide: events outside a series are not affected).
        Index("uq_event_network_series_date", "network_id", "series_date", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=80, unique=True)  # calendar UID, never changes
    kind: str = Field(max_length=20, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=20000)  # Markdown, rendered safely
    starts_at: datetime = Field(index=True)
    ends_at: datetime
    all_day: bool = False  # then starts_at/ends_at are Oslo midnights (end exclusive)
    venue_name: str = Field(default="", max_length=200)
    venue_address: str = Field(default="", max_length=300)
    venue_municipality_id: int | None = Field(default=None, foreign_key="municipality.id")
    online_url: str = Field(default="", max_length=500)
    host_municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)
    base_id: int | None = Field(default=None, foreign_key="competence_base.id", index=True)
    network_id: int | None = Field(default=None, foreign_key="network.id", index=True)
    # The occurrence of the network's cadence this meeting stands for, even after it was moved or skipped.
    series_date: date | None = None
    audience: str = Field(default=EventAudience.REGION, max_length=10)
    capacity: int | None = None
    quota_per_municipality: int | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    ask_dietary: bool = False
    ask_lunch: bool = False
    reminder_days: str = Field(default="7,1", max_length=40)  # days before the start; "" for none
    status: str = Field(default=EventStatus.DRAFT, max_length=10, index=True)
    sequence: int = 0
    # A kurs linked to a competence area: marking attendance gives each attendee a training record.
    competence_area_id: int | None = Field(default=None, foreign_key="competence_area.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProgrammeItem(SQLModel, table=True):
    __tablename__ = "programme_item"
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    position: int = 0
    starts: str = Field(default="", max_length=5)  # "09.00", Oslo time on the event's day
    title: str = Field(max_length=300)
    speaker: str = Field(default="", max_length=200)


class Registration(SQLModel, table=True):
    __table_args__ = (
        # One live registration per person and event (cancelled ones may repeat).
        Index(
            "uq_registration_live_email",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        # A person's registrations (personal feed, «mine påmeldinger»): with the status in the index, SQLite
        # picks it over the status index even without statistics (migration 6f3b9c14e2a7).
        Index("ix_registration_email_status", "email", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    name: str = Field(max_length=160)
    email: str = Field(max_length=254)  # lower-case
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    role: str = Field(default="", max_length=160)  # the person's job, e.g. helsesykepleier
    dietary: str = Field(default="", max_length=300)
    lunch: bool | None = None
    status: str = Field(max_length=12, index=True)
    priority: int = 0  # the waitlist is served by priority, then first come (confirmed_at), then id
    attended: bool | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # When the registration started to count for a seat or the waitlist («first come»): a guest when
    # confirming the e-mail, others when registering; set again when moved up from the waitlist.
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    confirm_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    cancel_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    registered_by_id: int | None = Field(default=None, foreign_key="user_account.id")
