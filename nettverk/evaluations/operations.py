"""Evaluations: sending the links after a fagdag or kurs (the scheduler's `evaluations` job), and taking
the one answer each participant may give before the deadline.

Who is asked: the confirmed registrations of a published or held fagdag/kurs that has ended; when a
coordinator has marked attendance, only those who came. The deadline is the event's end plus
NETTVERK_EVALUATION_DAYS (default 14); the job asks nobody after it. Each link is sent once
(`notify_once`, key evaluation:<event>:<registration>), and the answer is stored linked to its event only,
not to the invitation or the person, and so that the database itself cannot link them either (see `answer`).
"""

import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, update
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.db import lock_for_update
from nettverk.errors import OperationError
from nettverk.evaluations.models import EVALUATED_KINDS, MAX_COMMENT, SCORES, Evaluation, EvaluationInvitation
from nettverk.events.models import CONFIRMED, HELD, PUBLISHED, Event, Registration
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.timeutil import format_datetime, utcnow
from nettverk.tokens import hash_token, new_token

ANSWERED = "Du har allerede svart på denne evalueringen. Takk for svaret!"
SCORE_MISSING = "Svar på spørsmålet: velg et tall fra 1 til 5."


def deadline(event: Event) -> datetime:
    """The last moment an answer is taken: the event's end plus NETTVERK_EVALUATION_DAYS."""
    return event.ends_at + timedelta(days=current_app.config["EVALUATION_DAYS"])


def is_evaluated(event: Event) -> bool:
    return event.kind in EVALUATED_KINDS


# Sending the links --------------------------------------------------------------------------------


def participants(session: Session, event: Event) -> list[Registration]:
    """The confirmed registrations; once attendance is marked, only those who came."""
    rows = session.exec(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == CONFIRMED)
        .order_by(Registration.id)
    ).all()
    if any(r.attended is not None for r in rows):
        return [r for r in rows if r.attended]
    return list(rows)


def send_invitations(session: Session, now: datetime) -> Counts:
    """Every participant of a fagdag or kurs that has ended, and whose deadline has not passed, gets one
    e-mail with a personal link to the evaluation (unless they turned such notices off)."""
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    counts = Counts()
    days = timedelta(days=current_app.config["EVALUATION_DAYS"])
    events = session.exec(
        select(Event)
        .where(
            Event.kind.in_(EVALUATED_KINDS),
            Event.status.in_((PUBLISHED, HELD)),
            Event.ends_at <= now,
            Event.ends_at > now - days,
        )
        .order_by(Event.ends_at, Event.id)
    ).all()
    for event in events:
        registrations = participants(session, event)
        if not registrations:
            continue
        # A registration made by e-mail (a guest, or by a coordinator) follows the settings of the account
        # with that address, if there is one.
        accounts = dict(
            session.exec(
                select(User.email, User.id).where(
                    User.email.in_({r.email for r in registrations if r.user_id is None} or {""})
                )
            ).all()
        )
        has_link = set(
            session.exec(select(EvaluationInvitation.registration_id).where(EvaluationInvitation.event_id == event.id))
        )
        for registration in registrations:
            if registration.id in has_link:  # sent before (the usual case every day until the deadline)
                counts.skipped += 1
                continue
            token, token_hash = new_token()
            if notify_once(
                session,
                counts,
                job="evaluations",
                key=f"evaluation:{event.id}:{registration.id}",
                email=registration.email,
                user_id=registration.user_id or accounts.get(registration.email),
                kind="evaluation",
                subject=f"Hva syntes du om {event.title}?",
                template="evaluation",
                event=event,
                registration=registration,
                token=token,
                deadline=format_datetime(deadline(event)),
            ):
                session.add(
                    EvaluationInvitation(event_id=event.id, registration_id=registration.id, token_hash=token_hash)
                )
                session.flush()
    return counts


def invite(session: Session, registration: Registration) -> str:
    """Make one registration's link now, without mail (for tests and set-up); returns the secret."""
    token, token_hash = new_token()
    session.add(
        EvaluationInvitation(event_id=registration.event_id, registration_id=registration.id, token_hash=token_hash)
    )
    session.flush()
    return token


# Answering ----------------------------------------------------------------------------------------


def open_invitation(session: Session, token: str, now: datetime | None = None) -> tuple[EvaluationInvitation, Event]:
    """The invitation behind a link, if it can still be answered: unknown link 404, answered 409,
    deadline passed (or the event cancelled since) 410."""
    invitation = session.exec(
        select(EvaluationInvitation).where(EvaluationInvitation.token_hash == hash_token(token or ""))
    ).first()
    if invitation is None:
        raise OperationError("Lenken er ugyldig. Sjekk at du har kopiert hele lenken fra e-posten.", status=404)
    event = session.get(Event, invitation.event_id)
    if invitation.answered:
        raise OperationError(ANSWERED, status=409)
    if event.status not in (PUBLISHED, HELD):
        raise OperationError("Arrangementet ble avlyst, så det kan ikke evalueres.", status=410)
    if (now or utcnow()) > deadline(event):
        raise OperationError(
            f"Fristen for å svare på evalueringen gikk ut {format_datetime(deadline(event))}.", status=410
        )
    return invitation, event


def _score(value, field: str) -> int:
    if value is None or value == "":
        raise OperationError(SCORE_MISSING, field)
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCORES:
        raise OperationError("Svaret må være et tall fra 1 til 5.", field)
    return value


def answer(session: Session, token: str, overall, usefulness, comment: str = "", now: datetime | None = None) -> None:
    """Store the participant's answer. Refused: a score outside 1–5 or missing, a comment over
    MAX_COMMENT characters, a second answer (409, also when two arrive at once), after the deadline (410).

    Commits itself, in two transactions, so that not even the database links the answer to the invitation:
    1. the invitation is marked answered (and committed): its xmin is that transaction's;
    2. all the event's answers, the new one among them, are deleted and inserted again in random order in
       a second transaction: every answer of the event then has the same xmin, fresh ids, and a physical
       order (ctid) that says nothing of who answered when. An answer has no time, and the change log gets
       no line for it (its time would match the invitation's).
    If step 2 fails, the mark is taken back, so the participant can answer again."""
    invitation, event = open_invitation(session, token, now)
    overall, usefulness = _score(overall, "overall"), _score(usefulness, "usefulness")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise OperationError(f"Skriv høyst {MAX_COMMENT} tegn (du skrev {len(comment)}).", "comment")
    claim(session, invitation.id)
    session.commit()
    try:
        _store_shuffled(session, event.id, (overall, usefulness, comment))
        session.commit()
    except Exception:
        session.rollback()
        session.exec(
            update(EvaluationInvitation).where(EvaluationInvitation.id == invitation.id).values(answered=False)
        )
        session.commit()
        raise


def _store_shuffled(session: Session, event_id: int, new: tuple[int, int, str]) -> None:
    """Write the event's answers anew, `new` among them, in random order (see `answer`)."""
    lock_for_update(session, Event, event_id)  # one rewrite of an event's answers at a time
    rows = [
        *session.exec(
            select(Evaluation.overall, Evaluation.usefulness, Evaluation.comment).where(Evaluation.event_id == event_id)
        ),
        new,
    ]
    session.exec(delete(Evaluation).where(Evaluation.event_id == event_id))
    secrets.SystemRandom().shuffle(rows)
    session.execute(
        insert(Evaluation),
        [
            {"event_id": event_id, "overall": overall, "usefulness": usefulness, "comment": comment}
            for overall, usefulness, comment in rows
        ],
    )


def claim(session: Session, invitation_id: int) -> None:
    """Mark the invitation answered, or refuse (409) if it already is: one conditional UPDATE, so of two
    answers through the same link at the same moment only one finds it unanswered (PostgreSQL re-checks the
    condition after waiting for the other's row lock; SQLite has one writer)."""
    claimed = session.exec(
        update(EvaluationInvitation)
        .where(EvaluationInvitation.id == invitation_id, EvaluationInvitation.answered.is_(False))
        .values(answered=True)
    )
    if claimed.rowcount != 1:
        raise OperationError(ANSWERED, status=409)
