"""The timed job for evaluations (registered in scheduler/runner.py JOBS): the links sent after a fagdag or kurs.

Who is asked: the confirmed registrations of a published or held fagdag/kurs that has ended; when a
coordinator has marked attendance, only those who came. The deadline is the event's end plus
NETTVERK_EVALUATION_DAYS (default 14); the job asks nobody after it. Each link is sent once
(`notify_once`, key evaluation:<event>:<registration>).
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.evaluations.models import EVALUATED_KINDS, EvaluationInvitation
from nettverk.evaluations.operations import deadline
from nettverk.events.models import Event, EventStatus, Registration, RegistrationStatus
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.timeutil import format_datetime
from nettverk.tokens import new_token


def participants(session: Session, event: Event) -> list[Registration]:
    """The confirmed registrations; once attendance is marked, only those who came."""
    rows = session.exec(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED)
        .order_by(Registration.id)
    ).all()
    if any(r.attended is not None for r in rows):
        return [r for r in rows if r.attended]
    return list(rows)


def send_invitations(session: Session, now: datetime) -> Counts:
    """Every participant of a fagdag or kurs that has ended, and whose deadline has not passed, gets one
    e-mail with a personal link to the evaluation (unless they turned such notices off)."""
    counts = Counts()
    days = timedelta(days=current_app.config["EVALUATION_DAYS"])
    events = session.exec(
        select(Event)
        .where(
            Event.kind.in_(EVALUATED_KINDS),
            Event.status.in_((EventStatus.PUBLISHED, EventStatus.HELD)),
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
