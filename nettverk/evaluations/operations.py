"""Evaluations: taking the one answer each participant may give before the deadline (the event's end plus
NETTVERK_EVALUATION_DAYS). The links are sent by the timed job in jobs.py. The answer is stored linked to its
event only, not to the invitation or the person, and so that the database itself cannot link them either (see
`answer`).
"""

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, update
from sqlmodel import Session, select

from nettverk.db import lock_for_update
from nettverk.errors import OperationError
from nettverk.evaluations.models import EVALUATED_KINDS, MAX_COMMENT, SCORES, Evaluation, EvaluationInvitation
from nettverk.events.models import Event, EventStatus, Registration
from nettverk.timeutil import format_datetime, utcnow
from nettverk.tokens import hash_token, new_token

ANSWERED = "Du har allerede svart på denne evalueringen. Takk for svaret!"
SCORE_MISSING = "Svar på spørsmålet: velg et tall fra 1 til 5."


def deadline(event: Event) -> datetime:
    """The last moment an answer is taken: the event's end plus NETTVERK_EVALUATION_DAYS."""
    return event.ends_at + timedelta(days=current_app.config["EVALUATION_DAYS"])


def is_evaluated(event: Event) -> bool:
    return event.kind in EVALUATED_KINDS


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
    if event.status not in (EventStatus.PUBLISHED, EventStatus.HELD):
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
