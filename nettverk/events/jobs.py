"""The timed jobs for events (registered in scheduler/runner.py JOBS): reminders before an event, and the
coordinators' summary when registration closes. How a job runs, keys its notices and reads the clock:
scheduler/runner.py and scheduler/operations.py (notify_once)."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.accounts.queries import coordinators_by_base, coordinators_of
from nettverk.calendars import queries as calendar_queries
from nettverk.calendars.render import REQUEST
from nettverk.events.models import Event, EventStatus, Registration, RegistrationStatus
from nettverk.events.operations import MAX_REMINDER_DAYS, calendar_invitation, earlier_registrations
from nettverk.networks.models import NetworkBase
from nettverk.scheduler.models import Notification
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.timeutil import oslo_midnight, to_oslo

REMINDER_GRACE = timedelta(days=1)  # a reminder more than this late (the scheduler was down) is dropped
CLOSED_CATCH_UP_DAYS = 7  # a deadline missed while the scheduler was down is still reported this long


# Who is told (the digest uses these too) -----------------------------------------------------------


def bases_of_networks(session: Session, network_ids: set[int]) -> dict[int, set[int]]:
    """{network id: its bases}, read at once for many events."""
    found: dict[int, set[int]] = defaultdict(set)
    if network_ids:
        for network_id, base_id in session.exec(
            select(NetworkBase.network_id, NetworkBase.base_id).where(NetworkBase.network_id.in_(network_ids))
        ):
            found[network_id].add(base_id)
    return found


def event_bases(event: Event, network_bases: dict[int, set[int]]) -> set[int]:
    """policy.event_base_ids, from rows read in advance (bases_of_networks): its own base and its network's."""
    return ({event.base_id} if event.base_id else set()) | network_bases.get(event.network_id, set())


# Reminders before an event ------------------------------------------------------------------------


def reminder_days(text: str | None) -> list[int]:
    """'7,1' -> [1, 7]. save_event stores the field normalised; a part that is not a whole number of days
    from 1 to MAX_REMINDER_DAYS (a row from elsewhere) is left out rather than stopping the job."""
    days = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= MAX_REMINDER_DAYS:
            days.add(int(part))
    return sorted(days)


def due_reminder(event: Event, now: datetime) -> int | None:
    """The reminder (days before the start) that is due at `now`: of those whose moment (the start
    minus that many days, as an instant) has come, the nearest to the start, so a stale 7-day reminder
    is never sent after the 1-day one's moment. None before the first moment, from the start on, and
    when that reminder is more than REMINDER_GRACE late."""
    if now >= event.starts_at:
        return None
    due = [d for d in reminder_days(event.reminder_days) if event.starts_at - timedelta(days=d) <= now]
    if not due:
        return None
    days = min(due)
    return days if now - (event.starts_at - timedelta(days=days)) <= REMINDER_GRACE else None


def how_soon(starts_at: datetime, now: datetime) -> str:
    """'i dag', 'i morgen', 'om 7 dager', counted in Oslo calendar days."""
    days = (to_oslo(starts_at).date() - to_oslo(now).date()).days
    return {0: "i dag", 1: "i morgen"}.get(days, f"om {days} dager")


def reminders(session: Session, now: datetime) -> Counts:
    """Each confirmed registration of a published event gets the reminder that is due (see
    `due_reminder`), with the event as a calendar invitation. Someone who got their seat after that
    reminder's moment is left out: their confirmation has just told them, and the next reminder will."""
    counts = Counts()
    events = session.exec(
        select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            Event.reminder_days != "",
            Event.starts_at <= now + timedelta(days=MAX_REMINDER_DAYS + 1),
        )
        .order_by(Event.starts_at, Event.id)
    ).all()
    for event in events:
        days = due_reminder(event, now)
        if days is None:
            continue
        moment = event.starts_at - timedelta(days=days)
        prefix = f"reminder:{event.id}:"
        # The start is part of the occasion: a moved event reminds again for its new time.
        occasion = f"{days}d:{event.starts_at.astimezone(UTC):%Y%m%dT%H%M}"
        registrations = [
            r
            for r in session.exec(
                select(Registration)
                .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED)
                .order_by(Registration.id)
            )
            if (r.confirmed_at or r.created_at) <= moment
        ]
        if not registrations:
            continue
        sent_before = set(session.exec(select(Notification.key).where(Notification.key.startswith(prefix))))
        # A registration made for someone by e-mail (a guest, or by a coordinator) follows the settings of
        # the account with that address, if there is one.
        accounts = dict(
            session.exec(
                select(User.email, User.id).where(
                    User.email.in_({r.email for r in registrations if r.user_id is None} or {""})
                )
            ).all()
        )
        entry = earlier = None
        for registration in registrations:
            key = f"{prefix}{registration.id}:{occasion}"
            if key in sent_before:  # the common case every hour: skip before building the invitation
                counts.skipped += 1
                continue
            entry = entry or calendar_queries.entry(session, event)
            earlier = earlier or earlier_registrations(session, event)
            notify_once(
                session,
                counts,
                job="reminders",
                key=key,
                email=registration.email,
                user_id=registration.user_id or accounts.get(registration.email),
                kind="reminder",
                subject=f"Påminnelse: {event.title} {how_soon(event.starts_at, now)}",
                template="reminder",
                calendar=calendar_invitation(session, event, registration, REQUEST, entry, earlier[registration.id]),
                event=event,
                registration=registration,
                how_soon=how_soon(event.starts_at, now),
            )
    return counts


# Registration closed ------------------------------------------------------------------------------


def registration_closed(session: Session, now: datetime) -> Counts:
    """When an event's registration deadline has passed, the coordinators of its bases get the number
    registered and on the waitlist. A deadline from the last CLOSED_CATCH_UP_DAYS Oslo days that was
    not reported yet (the scheduler was down) is reported now; older ones are left alone."""
    counts = Counts()
    earliest = oslo_midnight(to_oslo(now).date() - timedelta(days=CLOSED_CATCH_UP_DAYS))
    events = session.exec(
        select(Event)
        .where(
            Event.status.in_((EventStatus.PUBLISHED, EventStatus.HELD)),
            Event.registration_closes_at.is_not(None),
            Event.registration_closes_at <= now,
            Event.registration_closes_at >= earliest,
        )
        .order_by(Event.registration_closes_at, Event.id)
    ).all()
    if not events:
        return counts
    network_bases = bases_of_networks(session, {e.network_id for e in events if e.network_id})
    coordinators = coordinators_by_base(session, set().union(*(event_bases(e, network_bases) for e in events)))
    tally: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event_id, status, number in session.exec(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_([e.id for e in events]))
        .group_by(Registration.event_id, Registration.status)
    ):
        tally[event_id][status] = number
    for event in events:
        confirmed, waitlisted = (
            tally[event.id][RegistrationStatus.CONFIRMED],
            tally[event.id][RegistrationStatus.WAITLISTED],
        )
        deadline = f"{event.registration_closes_at.astimezone(UTC):%Y%m%dT%H%M}"  # a new deadline, a new summary
        for user in coordinators_of(coordinators, event_bases(event, network_bases)):
            notify_once(
                session,
                counts,
                job="registration_closed",
                key=f"registration_closed:{event.id}:{user.id}:{deadline}",
                email=user.email,
                user_id=user.id,
                kind="registration_closed",
                subject=f"Påmeldingen er stengt: {event.title}",
                template="registration_closed",
                event=event,
                user=user,
                confirmed=confirmed,
                waitlisted=waitlisted,
            )
    return counts
