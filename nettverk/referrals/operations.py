"""Every change of a tiltak or a referral, with its checks, its audit row and its notices.

The workflow is enforced here, not in the views: `ACTIONS` says from which states an action may be
taken, by which side (the sending service or the providing team), and to which state it leads. An
action from any other state is refused with 409 and changes nothing. Free text is checked by
`privacy.identity` before anything is stored; a refusal names the field, never echoes what it found.
E-mail about referrals carries no content, only a link: the reader must log in (and is audited).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import insert, update
from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.activity import record
from nettverk.db import begin_write, lock_for_update
from nettverk.errors import OperationError
from nettverk.mail.operations import queue_mail
from nettverk.policy import PROVIDER, SENDER
from nettverk.privacy import identity
from nettverk.referrals.models import (
    BTI_LEVELS,
    CONSENT_FORMS,
    FINISHED,
    INTERVENTION_STATUSES,
    METHODS,
    OUTCOMES,
    REFERRAL_STATUSES,
    URGENCIES,
    Intervention,
    InterventionMunicipality,
    InterventionStatus,
    Referral,
    ReferralAudit,
    ReferralMessage,
    ReferralStatus,
    ReferralTransition,
    Urgency,
)
from nettverk.registry.models import BaseMembership, ServiceArea
from nettverk.text import slugify
from nettverk.timeutil import to_oslo, utcnow

MAX_CHILDREN = 12
OLDEST_CHILD_YEARS = 23  # barnevern follows up young people to 23 (ettervern)


# Audit --------------------------------------------------------------------------------------------


def audit(
    session: Session,
    actor_id: int | None,
    actor_service_id: int | None,
    referral: Referral,
    action: str,
    detail: str = "",
) -> None:
    """One append-only row: who, when, what, from which service. `detail` is never free text."""
    session.add(
        ReferralAudit(
            actor_id=actor_id,
            actor_service_id=actor_service_id,
            referral_id=referral.id,
            action=action,
            detail=detail[:200],
        )
    )


@sa_event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, flush_context, instances):
    """The application can add audit rows, never change or delete one (the database refuses it too)."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, ReferralAudit):
            raise RuntimeError("The referral audit log is append-only.")


# Catalog ------------------------------------------------------------------------------------------


@dataclass
class InterventionData:
    name: str
    method: str
    base_id: int
    provider_service_id: int
    description: str = ""
    age_from: int = 0
    age_to: int = 18
    bti_level: int = 2
    capacity: int = 1
    typical_weeks: int = 12
    contact_name: str = ""
    contact_email: str = ""
    status: str = InterventionStatus.ACTIVE
    municipality_ids: set[int] | None = None  # None: the base's members


def save_intervention(
    session: Session, actor_id: int | None, data: InterventionData, intervention: Intervention | None = None
) -> Intervention:
    name = (data.name or "").strip()
    if not name:
        raise OperationError("Skriv navnet på tiltaket.", "name")
    if data.method not in METHODS:
        raise OperationError("Velg en metode fra listen.", "method")
    if data.status not in INTERVENTION_STATUSES:
        raise OperationError("Velg status.", "status")
    if data.bti_level not in BTI_LEVELS:
        raise OperationError("BTI-nivået må være 0, 1, 2 eller 3.", "bti_level")
    if not 0 <= data.age_from <= data.age_to <= OLDEST_CHILD_YEARS:
        raise OperationError(f"Aldersgruppen må ligge mellom 0 og {OLDEST_CHILD_YEARS} år, fra-alder først.", "age_to")
    if data.capacity < 1:
        raise OperationError("Kapasiteten må være minst én familie.", "capacity")
    if data.typical_weeks < 1:
        raise OperationError("Varigheten må være minst én uke.", "typical_weeks")
    members = set(session.exec(select(BaseMembership.municipality_id).where(BaseMembership.base_id == data.base_id)))
    chosen = members if data.municipality_ids is None else set(data.municipality_ids)
    if not chosen:
        raise OperationError("Velg minst én kommune som kan be om tiltaket.", "municipality_ids")
    created = intervention is None
    if created:
        intervention = Intervention(
            slug=_unique_slug(session, name),
            name=name,
            method=data.method,
            base_id=data.base_id,
            provider_service_id=data.provider_service_id,
        )
    for attr in (
        "method",
        "base_id",
        "provider_service_id",
        "age_from",
        "age_to",
        "bti_level",
        "capacity",
        "typical_weeks",
        "status",
    ):
        setattr(intervention, attr, getattr(data, attr))
    intervention.name, intervention.description = name, (data.description or "").strip()
    intervention.contact_name, intervention.contact_email = data.contact_name.strip(), data.contact_email.strip()
    intervention.updated_at = utcnow()
    session.add(intervention)
    session.flush()
    current = set(
        session.exec(
            select(InterventionMunicipality.municipality_id).where(
                InterventionMunicipality.intervention_id == intervention.id
            )
        )
    )
    for municipality_id in chosen - current:
        session.add(InterventionMunicipality(intervention_id=intervention.id, municipality_id=municipality_id))
    for municipality_id in current - chosen:
        session.delete(session.get(InterventionMunicipality, (intervention.id, municipality_id)))
    record(session, actor_id, "intervention.created" if created else "intervention.updated", intervention, name)
    return intervention


RESERVED_SLUGS = {"ny"}  # /tiltak/ny is the form for a new tiltak


def _unique_slug(session: Session, name: str) -> str:
    base = slugify(name)[:100]
    slug, n = base, 2
    while slug in RESERVED_SLUGS or session.exec(select(Intervention.id).where(Intervention.slug == slug)).first():
        slug, n = f"{base}-{n}", n + 1
    return slug


# Referrals ----------------------------------------------------------------------------------------


@dataclass
class ReferralData:
    intervention_id: int
    sending_service_id: int
    family_municipality_id: int | None
    case_reference: str = ""
    children_count: int = 1
    child_birth_years: list[int] = field(default_factory=list)
    need: str = ""
    urgency: str = Urgency.NORMAL
    preferred_start: date | None = None
    bti_level: int | None = None
    consent_given: bool = False
    consent_date: date | None = None
    consent_form: str = ""


def _refuse_identifying(fields: dict[str, str]) -> None:
    problems = identity.ensure_clean(fields)
    if problems:
        name, messages = next(iter(problems.items()))
        raise OperationError(" ".join(messages), name)


def _check(session: Session, data: ReferralData, sending: bool) -> Intervention:
    intervention = session.get(Intervention, data.intervention_id)
    if intervention is None or intervention.status != InterventionStatus.ACTIVE:
        raise OperationError("Tiltaket tar ikke imot henvendelser nå.", "intervention_id", 409)
    if data.family_municipality_id is None:
        raise OperationError("Velg familiens kommune.", "family_municipality_id")
    served = session.get(ServiceArea, (data.sending_service_id, data.family_municipality_id))
    if served is None:
        raise OperationError(
            "Familiens kommune må være en av kommunene tjenesten din betjener.", "family_municipality_id"
        )
    allowed = session.get(InterventionMunicipality, (intervention.id, data.family_municipality_id))
    if allowed is None:
        raise OperationError("Tiltaket kan ikke bestilles for familier i denne kommunen.", "family_municipality_id")
    if not 1 <= data.children_count <= MAX_CHILDREN:
        raise OperationError(f"Antall barn må være mellom 1 og {MAX_CHILDREN}.", "children_count")
    this_year = to_oslo(utcnow()).year
    if len(data.child_birth_years) != data.children_count:
        raise OperationError(
            f"Skriv ett fødselsår for hvert barn ({data.children_count}), skilt med komma.", "child_birth_years"
        )
    if any(not this_year - OLDEST_CHILD_YEARS <= year <= this_year for year in data.child_birth_years):
        raise OperationError(
            f"Fødselsårene må ligge mellom {this_year - OLDEST_CHILD_YEARS} og {this_year}.", "child_birth_years"
        )
    if data.urgency not in URGENCIES:
        raise OperationError("Velg hvor mye det haster.", "urgency")
    if data.bti_level is not None and data.bti_level not in BTI_LEVELS:
        raise OperationError("BTI-nivået må være 0, 1, 2 eller 3.", "bti_level")
    if data.consent_form and data.consent_form not in CONSENT_FORMS:
        raise OperationError("Velg hvordan samtykket er gitt.", "consent_form")
    if data.consent_date is not None and data.consent_date > to_oslo(utcnow()).date():
        raise OperationError("Samtykkedatoen kan ikke være fram i tid.", "consent_date")
    _refuse_identifying({"case_reference": data.case_reference, "need": data.need})
    if sending:
        _require_consent(data.consent_given, data.consent_date, data.consent_form)
        if not data.need.strip():
            raise OperationError(
                "Beskriv behovet, uten navn eller andre opplysninger som identifiserer familien.", "need"
            )
    return intervention


def _require_consent(given: bool, on: date | None, form: str) -> None:
    if not given:
        raise OperationError("Henvendelsen kan ikke sendes uten at foreldrene har samtykket.", "consent_given")
    if on is None:
        raise OperationError("Skriv datoen foreldrene samtykket.", "consent_date")
    if form not in CONSENT_FORMS:
        raise OperationError("Velg hvordan samtykket er gitt.", "consent_form")


def family_key(service_id: int, case_reference: str) -> str:
    """'' without a case reference (the referral then counts as a family of its own)."""
    reference = " ".join(case_reference.lower().split())
    if not reference:
        return ""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{service_id}:{reference}".encode(), hashlib.sha256).hexdigest()[:32]


def _apply(referral: Referral, data: ReferralData) -> None:
    for attr in (
        "intervention_id",
        "sending_service_id",
        "family_municipality_id",
        "children_count",
        "urgency",
        "preferred_start",
        "bti_level",
        "consent_given",
        "consent_date",
        "consent_form",
    ):
        setattr(referral, attr, getattr(data, attr))
    referral.case_reference, referral.need = data.case_reference.strip(), data.need.strip()
    referral.family_key = family_key(referral.sending_service_id, referral.case_reference)
    referral.child_birth_years = ",".join(str(year) for year in sorted(data.child_birth_years))
    referral.updated_at = utcnow()


def create_referral(session: Session, actor_id: int, data: ReferralData, send: bool = False) -> Referral:
    """A new referral from the actor's service, saved as a draft or sent at once."""
    intervention = _check(session, data, send)
    referral = Referral(
        public_id=secrets.token_urlsafe(16),
        intervention_id=intervention.id,
        sending_service_id=data.sending_service_id,
        family_municipality_id=data.family_municipality_id,
        created_by_id=actor_id,
    )
    _apply(referral, data)
    session.add(referral)
    session.flush()
    session.add(
        ReferralTransition(
            referral_id=referral.id,
            from_status="",
            to_status=ReferralStatus.DRAFT,
            actor_id=actor_id,
            actor_service_id=data.sending_service_id,
        )
    )
    audit(session, actor_id, data.sending_service_id, referral, "created")
    if send:
        _move(session, referral, intervention, ReferralStatus.SENT, actor_id, data.sending_service_id)
    return referral


def update_draft(session: Session, actor_id: int, referral: Referral, data: ReferralData, send: bool = False) -> None:
    lock_for_update(session, Referral, referral.id)
    session.refresh(referral)
    if referral.status != ReferralStatus.DRAFT:
        raise OperationError("Bare utkast kan endres. Send en melding til tiltaksteamet i stedet.", status=409)
    data.sending_service_id = referral.sending_service_id  # a draft never changes service
    intervention = _check(session, data, send)
    _apply(referral, data)
    session.add(referral)
    audit(session, actor_id, referral.sending_service_id, referral, "updated")
    if send:
        _move(session, referral, intervention, ReferralStatus.SENT, actor_id, referral.sending_service_id)


@dataclass(frozen=True)
class Action:
    label: str  # the button
    side: str  # who may take it
    sources: tuple[str, ...]
    target: str


ACTIONS = {
    "send": Action("Send henvendelsen", SENDER, (ReferralStatus.DRAFT,), ReferralStatus.SENT),
    "receive": Action("Bekreft mottatt", PROVIDER, (ReferralStatus.SENT,), ReferralStatus.RECEIVED),
    "accept": Action("Godta, sett på venteliste", PROVIDER, (ReferralStatus.RECEIVED,), ReferralStatus.ACCEPTED),
    "start": Action(
        "Start tiltaket", PROVIDER, (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED), ReferralStatus.IN_PROGRESS
    ),
    "decline": Action("Avslå", PROVIDER, (ReferralStatus.RECEIVED,), ReferralStatus.DECLINED),
    "close": Action("Avslutt", PROVIDER, (ReferralStatus.IN_PROGRESS,), ReferralStatus.CLOSED),
    "withdraw": Action(
        "Trekk tilbake",
        SENDER,
        (ReferralStatus.DRAFT, ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED),
        ReferralStatus.WITHDRAWN,
    ),
}


def available_actions(referral: Referral, sides: set[str]) -> list[str]:
    return [name for name, action in ACTIONS.items() if action.side in sides and referral.status in action.sources]


def take_action(
    session: Session,
    actor_id: int,
    sides: set[str],
    referral: Referral,
    name: str,
    comment: str = "",
    reason: str = "",
    outcome: str = "",
    outcome_note: str = "",
) -> None:
    """Move the referral one step. The row is locked, so two clicks at once cannot both move it."""
    action = ACTIONS.get(name)
    if action is None:
        raise OperationError("Ukjent handling.", status=400)
    if action.side not in sides:
        raise OperationError("Denne handlingen hører til den andre parten i henvendelsen.", status=403)
    lock_for_update(session, Referral, referral.id)
    session.refresh(referral)
    if referral.status not in action.sources:
        raise OperationError(
            f"Henvendelsen er {REFERRAL_STATUSES[referral.status].lower()}, så «{action.label}» kan ikke gjøres nå.",
            status=409,
        )
    _refuse_identifying({"comment": comment, "reason": reason, "outcome_note": outcome_note})
    intervention = session.get(Intervention, referral.intervention_id)
    if name == "send":
        _require_consent(referral.consent_given, referral.consent_date, referral.consent_form)
        if not referral.need:
            raise OperationError("Beskriv behovet før henvendelsen sendes.", "need")
    if name == "decline":
        if not reason.strip():
            raise OperationError("Skriv hvorfor henvendelsen avslås.", "reason")
        referral.decline_reason = reason.strip()
    if name == "close":
        if outcome not in OUTCOMES:
            raise OperationError("Velg utfallet.", "outcome")
        referral.outcome, referral.outcome_note = outcome, outcome_note.strip()
    service_id = referral.sending_service_id if action.side == SENDER else intervention.provider_service_id
    _move(session, referral, intervention, action.target, actor_id, service_id, comment.strip())


def _move(
    session: Session,
    referral: Referral,
    intervention: Intervention,
    to_status: str,
    actor_id: int | None,
    actor_service_id: int | None,
    comment: str = "",
) -> None:
    now = utcnow()
    from_status = referral.status
    referral.status, referral.updated_at = to_status, now
    stamp = {
        ReferralStatus.SENT: "sent_at",
        ReferralStatus.RECEIVED: "received_at",
        ReferralStatus.ACCEPTED: "accepted_at",
        ReferralStatus.IN_PROGRESS: "started_at",
    }
    if to_status in stamp:
        setattr(referral, stamp[to_status], now)
    if to_status == ReferralStatus.IN_PROGRESS and referral.accepted_at is None:  # accepted and started in one step
        referral.accepted_at = now
    if to_status in FINISHED:
        referral.finished_at = now
    session.add(referral)
    session.add(
        ReferralTransition(
            referral_id=referral.id,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor_id,
            actor_service_id=actor_service_id,
            at=now,
            comment=comment,
        )
    )
    audit(session, actor_id, actor_service_id, referral, to_status, f"{from_status} → {to_status}")
    _notify(session, referral, intervention, to_status)


def _notify(session: Session, referral: Referral, intervention: Intervention, to_status: str) -> None:
    """Tell the other side that something happened, with a link and no content."""
    if to_status == ReferralStatus.SENT:
        recipients = _provider_emails(session, intervention.provider_service_id)
    elif (
        to_status == ReferralStatus.WITHDRAWN and referral.sent_at is not None
    ):  # the team had it: tell them it is gone
        recipients = _provider_emails(session, intervention.provider_service_id)
    elif (
        to_status
        in (
            ReferralStatus.RECEIVED,
            ReferralStatus.ACCEPTED,
            ReferralStatus.DECLINED,
            ReferralStatus.IN_PROGRESS,
            ReferralStatus.CLOSED,
        )
        and referral.created_by_id
    ):
        creator = session.get(User, referral.created_by_id)
        recipients = [creator.email] if creator is not None and creator.is_active else []
    else:
        recipients = []
    for email in recipients:
        queue_mail(
            session,
            email,
            f"Henvendelse til {intervention.name}: {REFERRAL_STATUSES[to_status].lower()}",
            "referral_changed",
            referral=referral,
            intervention=intervention,
            status=REFERRAL_STATUSES[to_status],
        )


def _provider_emails(session: Session, service_id: int) -> list[str]:
    return list(
        session.exec(
            select(User.email)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == "provider", RoleAssignment.service_id == service_id, User.is_active)
            .distinct()
        )
    )


def add_message(session: Session, actor_id: int, sides: set[str], referral: Referral, body: str) -> ReferralMessage:
    body = (body or "").strip()
    if not body:
        raise OperationError("Skriv meldingen.", "body")
    if len(body) > 2000:
        raise OperationError("Meldingen kan være høyst 2000 tegn.", "body")
    if referral.status == ReferralStatus.DRAFT or referral.content_erased_at is not None:
        raise OperationError("Det kan ikke sendes meldinger på denne henvendelsen.", status=409)
    _refuse_identifying({"body": body})
    intervention = session.get(Intervention, referral.intervention_id)
    service_id = referral.sending_service_id if SENDER in sides else intervention.provider_service_id
    message = ReferralMessage(referral_id=referral.id, author_id=actor_id, author_service_id=service_id, body=body)
    session.add(message)
    audit(session, actor_id, service_id, referral, "message")
    return message


def record_read(session: Session, user, sides: set[str], referral: Referral, action: str = "viewed") -> None:
    """Every read is audited, from the side the reader stands on."""
    record_reads(session, user, [(sides, referral)], action)


def record_reads(session: Session, user, reads: list[tuple[set[str], Referral]], action: str = "listed") -> None:
    """The reads of a list page, (sides, referral) each: one audit row per referral, written together."""
    if not reads:
        return
    begin_write(session)  # a read that writes its audit rows (once, not per row: that would flush each)
    rows, now = [], utcnow()
    for sides, referral in reads:
        service_id = referral.sending_service_id
        if SENDER not in sides:
            service_id = session.get(Intervention, referral.intervention_id).provider_service_id
        rows.append(
            {
                "at": now,
                "actor_id": user.id,
                "actor_service_id": service_id,
                "referral_id": referral.id,
                "action": action,
                "detail": "",
            }
        )
    # One executemany (plain inserts, no ids read back: the ORM would send one INSERT … RETURNING per row).
    # Still insert-only, so the append-only triggers of referral_audit see the same as before.
    session.execute(insert(ReferralAudit), rows)
    session.info["wrote"] = True  # as after a flush: the transaction holds SQLite's write lock now


# Retention ----------------------------------------------------------------------------------------


def erase_expired(session: Session, months: int, now: datetime | None = None) -> int:
    """Erase the free text and case reference of referrals finished (declined, closed or withdrawn)
    more than `months` ago. Counts, dates, states and the audit log stay. Returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(days=round(months * 30.44))
    due = list(
        session.exec(
            select(Referral).where(
                Referral.status.in_(FINISHED), Referral.finished_at <= cutoff, Referral.content_erased_at.is_(None)
            )
        )
    )
    for referral in due:
        referral.case_reference = referral.need = referral.decline_reason = referral.outcome_note = ""
        referral.content_erased_at = now
        session.add(referral)
        audit(session, None, None, referral, "erased", "innholdet er slettet etter oppbevaringstiden")
    ids = [r.id for r in due]
    if ids:
        session.execute(update(ReferralTransition).where(ReferralTransition.referral_id.in_(ids)).values(comment=""))
        session.execute(update(ReferralMessage).where(ReferralMessage.referral_id.in_(ids)).values(body=""))
    session.flush()
    return len(ids)
