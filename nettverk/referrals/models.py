"""Shared tiltak (interventions) and henvendelser (referrals) about one family each.

A referral carries the least the providing team needs: the sender's own case reference, the
children's birth years, the family's municipality, the need, the consent. No names, no national
identity numbers, no phone numbers or e-mail addresses (refused by `privacy.identity`). Its free text is
erased after the retention period; counts and dates stay for statistics. Every read and change is
written to `ReferralAudit`, which is append-only (see operations.audit and the migration's triggers).
"""

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow

METHODS = {
    "foreldreveiledning": "Hjemmebasert foreldreveiledning",
    "fosterhjemsveiledning": "Veiledning av fosterhjem",
    "oppfolging_foreldre": "Oppfølging av foreldre som har mistet omsorgen",
    "pmto": "PMTO",
    "icdp": "ICDP",
    "marte_meo": "Marte Meo",
    "cos": "Circle of Security",
    "familierad": "Familieråd",
    "home_start": "Home-Start",
    "annet": "Annet",
}


class InterventionStatus(StrEnum):
    ACTIVE = "active"  # open for new referrals
    PAUSED = "paused"
    ENDED = "ended"


INTERVENTION_STATUSES: dict[str, str] = {
    InterventionStatus.ACTIVE: "Aktivt",
    InterventionStatus.PAUSED: "Satt på pause",
    InterventionStatus.ENDED: "Avsluttet",
}
BTI_LEVELS = {
    0: "Nivå 0: bekymring",
    1: "Nivå 1: tiltak i egen tjeneste",
    2: "Nivå 2: samarbeid med andre",
    3: "Nivå 3: tverrfaglig samarbeid med stafettholder",
}


class ReferralStatus(StrEnum):
    """A referral's state. The workflow (which state may follow which, and who may move it) is in operations."""

    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


REFERRAL_STATUSES: dict[str, str] = {
    ReferralStatus.DRAFT: "Utkast",
    ReferralStatus.SENT: "Sendt",
    ReferralStatus.RECEIVED: "Mottatt",
    ReferralStatus.ACCEPTED: "Godtatt, venter på oppstart",
    ReferralStatus.DECLINED: "Avslått",
    ReferralStatus.IN_PROGRESS: "I gang",
    ReferralStatus.CLOSED: "Avsluttet",
    ReferralStatus.WITHDRAWN: "Trukket tilbake",
}
FINISHED = (ReferralStatus.DECLINED, ReferralStatus.CLOSED, ReferralStatus.WITHDRAWN)


class Urgency(StrEnum):
    NORMAL = "normal"
    HIGH = "high"


URGENCIES: dict[str, str] = {Urgency.NORMAL: "Vanlig", Urgency.HIGH: "Haster"}
CONSENT_FORMS = {"skriftlig": "Skriftlig", "digital": "Digitalt (signert)", "muntlig": "Muntlig, notert i saken"}
OUTCOMES = {
    "completed": "Gjennomført som planlagt",
    "partly": "Delvis gjennomført",
    "ended_early": "Avsluttet før tiden",
    "not_started": "Ble ikke startet",
}


class Intervention(SQLModel, table=True):
    """A shared tiltak offered through a base, delivered by one service's team."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    base_id: int = Field(foreign_key="competence_base.id", index=True)
    name: str = Field(max_length=160)
    method: str = Field(max_length=30)
    description: str = Field(default="", max_length=4000)
    age_from: int = 0
    age_to: int = 18
    bti_level: int = 2
    provider_service_id: int = Field(foreign_key="service.id", index=True)
    capacity: int = 1  # families at the same time
    typical_weeks: int = 12  # how long one family usually takes; for the waiting-time estimate
    contact_name: str = Field(default="", max_length=160)
    contact_email: str = Field(default="", max_length=254)  # a professional's work address
    status: str = Field(default=InterventionStatus.ACTIVE, max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class InterventionMunicipality(SQLModel, table=True):
    """A municipality whose barneverntjeneste may request the tiltak (the base's members by default)."""

    __tablename__ = "intervention_municipality"
    intervention_id: int = Field(foreign_key="intervention.id", primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True, index=True)


class Referral(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, unique=True)  # in URLs; random, so ids cannot be guessed
    intervention_id: int = Field(foreign_key="intervention.id", index=True)
    sending_service_id: int = Field(foreign_key="service.id", index=True)
    family_municipality_id: int = Field(foreign_key="municipality.id", index=True)
    # Content: erased after the retention period.
    case_reference: str = Field(default="", max_length=60)  # the sender's own reference, not ours
    need: str = Field(default="", max_length=3000)
    decline_reason: str = Field(default="", max_length=1000)
    outcome_note: str = Field(default="", max_length=1000)
    # A keyed hash of the sending service and its case reference: the same family referred twice counts
    # once in the statistics, also after the reference itself is erased. Without the app's secret key it
    # cannot be turned back into the reference, and it says nothing about the family.
    family_key: str = Field(default="", max_length=32)
    # Facts kept for statistics.
    children_count: int = 1
    child_birth_years: str = Field(default="", max_length=100)  # "2015,2018"
    urgency: str = Field(default=Urgency.NORMAL, max_length=10)
    preferred_start: date | None = None
    bti_level: int | None = None
    consent_given: bool = False
    consent_date: date | None = None
    consent_form: str = Field(default="", max_length=20)
    status: str = Field(default=ReferralStatus.DRAFT, max_length=12, index=True)
    outcome: str = Field(default="", max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)
    received_at: datetime | None = None
    accepted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = Field(default=None, index=True)  # declined, closed or withdrawn
    content_erased_at: datetime | None = None


class ReferralTransition(SQLModel, table=True):
    """One step of the workflow: who moved it, when, from where to where, with an optional comment."""

    __tablename__ = "referral_transition"
    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    from_status: str = Field(max_length=12)
    to_status: str = Field(max_length=12)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_service_id: int | None = Field(default=None, foreign_key="service.id")
    at: datetime = Field(default_factory=utcnow)
    comment: str = Field(default="", max_length=1000)  # erased with the content


class ReferralMessage(SQLModel, table=True):
    """A short message between the sender and the providing team on one referral."""

    __tablename__ = "referral_message"
    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author_service_id: int | None = Field(default=None, foreign_key="service.id")
    at: datetime = Field(default_factory=utcnow)
    body: str = Field(default="", max_length=2000)  # erased with the content


class ReferralAudit(SQLModel, table=True):
    """Append-only: who read or changed which referral, when, from which service. Never content."""

    __tablename__ = "referral_audit"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor_service_id: int | None = Field(default=None, foreign_key="service.id")
    referral_id: int = Field(foreign_key="referral.id", index=True)
    action: str = Field(max_length=30)  # viewed, listed, created, updated, sent, received, …, erased
    detail: str = Field(default="", max_length=200)  # e.g. "sent → received"; never free text
