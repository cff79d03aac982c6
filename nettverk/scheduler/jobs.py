"""The timed jobs. Each is `job(session, now) -> Counts`: it selects what is due and not yet done,
does it through the same operations the pages use, and sends through `notify_once`, so running it
twice, or in two processes, sends nothing twice. `runner.run_job` gives each run its own transaction.

Every notice has a key (job, object, recipient, occasion); the occasion is what makes a new notice
of the same kind legitimate: the reminder's days before this start time, the deadline that passed, the
dates of the new drafts, the follow-up stage, the month, the ISO week. Time comes only from `now`
(aware UTC), read as Europe/Oslo where a day, a week or a month is meant, so a test can set the clock
and the DST nights behave: a moment is an instant, and an hourly run that comes twice in the doubled
hour of October finds its notice already sent.

Mail about referrals carries no content: the tiltak's name, a number, a link. Log lines name ids only.
"""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import func, or_
from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.calendars import queries as calendar_queries
from nettverk.calendars.render import REQUEST
from nettverk.errors import OperationError
from nettverk.evaluations.operations import send_invitations
from nettverk.events.calendar import holiday_name
from nettverk.events.models import CONFIRMED, DRAFT, HELD, PUBLISHED, WAITLISTED, Event, Registration
from nettverk.events.operations import MAX_REMINDER_DAYS, _invitation
from nettverk.mail.operations import deliver_due, smtp_configured
from nettverk.networks import queries as network_queries
from nettverk.networks.models import Network, NetworkBase
from nettverk.networks.operations import plan_meetings
from nettverk.referrals.models import ACCEPTED, IN_PROGRESS, RECEIVED, SENT, Intervention, Referral
from nettverk.referrals.operations import erase_expired
from nettverk.referrals.statistics import SMALL_TEXT, THRESHOLD
from nettverk.registry.models import PLANNED, CompetenceBase, PlannedMerger
from nettverk.registry.operations import carry_out_merger
from nettverk.scheduler.models import Notification
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.text import norwegian_key
from nettverk.timeutil import format_date, oslo_midnight, to_oslo

log = logging.getLogger("nettverk.scheduler")

REMINDER_GRACE = timedelta(days=1)  # a reminder more than this late (the scheduler was down) is dropped
CLOSED_CATCH_UP_DAYS = 7  # a deadline missed while the scheduler was down is still reported this long
DIGEST_WEEKS = 4
OPEN_REFERRAL_STATUSES = (SENT, RECEIVED, ACCEPTED, IN_PROGRESS)  # what the digest counts, in this order
DIGEST_LABELS = {SENT: "Sendt", RECEIVED: "Mottatt", ACCEPTED: "Venter på oppstart", IN_PROGRESS: "I gang"}


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def deliver_mail(session: Session, now: datetime) -> Counts:
    """Send what the outbox holds (new mail, and failed mail whose retry time has come). Runs every few
    seconds; each message is claimed with a conditional UPDATE, so two runs or two schedulers never send one
    twice."""
    if not smtp_configured():
        return Counts()
    session.commit()  # deliver claims each message in its own transaction
    result = deliver_due(session)
    return Counts(sent=result["sent"], failed=result["failed"])


def mergers(session: Session, now: datetime) -> Counts:
    """Carry out the planned mergers whose date (an Oslo day) has come, each once (carry_out_merger claims
    it). One that can no longer be carried out is counted as failed and stays planned, for the admin."""
    counts, today = Counts(), to_oslo(_aware(now)).date()
    due = session.exec(
        select(PlannedMerger)
        .where(PlannedMerger.status == PLANNED, PlannedMerger.effective_date <= today)
        .order_by(PlannedMerger.effective_date, PlannedMerger.id)
    ).all()
    for merger in due:
        try:
            with session.begin_nested():
                done = carry_out_merger(session, merger)
        except OperationError:
            counts.failed += 1
            log.warning("Planned merger %s could not be carried out", merger.id)
            continue
        if done:
            counts.sent += 1
        else:
            counts.skipped += 1
    return counts


def evaluations(session: Session, now: datetime) -> Counts:
    """The participants of a fagdag or kurs that has ended get their link to its evaluation, once."""
    return send_invitations(session, _aware(now))


def retention(session: Session, now: datetime) -> Counts:
    """Erase the free text of referrals finished longer ago than the retention period."""
    return Counts(sent=erase_expired(session, current_app.config["REFERRAL_RETENTION_MONTHS"], now))


# Who is told --------------------------------------------------------------------------------------


def coordinators_by_base(session: Session, base_ids: set[int] | None = None) -> dict[int, list[User]]:
    """{base id: its active coordinators} (role "coordinator" scoped to the base; the admin is not one)."""
    query = (
        select(RoleAssignment.base_id, User)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == "coordinator", RoleAssignment.base_id.is_not(None), User.is_active)
        .order_by(RoleAssignment.base_id, User.id)
    )
    if base_ids is not None:
        if not base_ids:
            return {}
        query = query.where(RoleAssignment.base_id.in_(base_ids))
    found: dict[int, list[User]] = defaultdict(list)
    for base_id, user in session.exec(query):
        if all(known.id != user.id for known in found[base_id]):
            found[base_id].append(user)
    return found


def _people(coordinators: dict[int, list[User]], base_ids: set[int]) -> list[User]:
    """The coordinators of any of these bases, each once."""
    people = {}
    for base_id in sorted(base_ids):
        for user in coordinators.get(base_id, []):
            people.setdefault(user.id, user)
    return list(people.values())


def _network_bases(session: Session, network_ids: set[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    if network_ids:
        for network_id, base_id in session.exec(
            select(NetworkBase.network_id, NetworkBase.base_id).where(NetworkBase.network_id.in_(network_ids))
        ):
            found[network_id].add(base_id)
    return found


def _event_bases(event: Event, network_bases: dict[int, set[int]]) -> set[int]:
    """policy.event_base_ids, from rows read in advance: its own base and the bases of its network."""
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
    now, counts = _aware(now), Counts()
    events = session.exec(
        select(Event)
        .where(
            Event.status == PUBLISHED,
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
                .where(Registration.event_id == event.id, Registration.status == CONFIRMED)
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
        entry = None
        for registration in registrations:
            key = f"{prefix}{registration.id}:{occasion}"
            if key in sent_before:  # the common case every hour: skip before building the invitation
                counts.skipped += 1
                continue
            entry = entry or calendar_queries.entry(session, event)
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
                calendar=_invitation(session, event, registration, REQUEST, entry),
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
    now, counts = _aware(now), Counts()
    earliest = oslo_midnight(to_oslo(now).date() - timedelta(days=CLOSED_CATCH_UP_DAYS))
    events = session.exec(
        select(Event)
        .where(
            Event.status.in_((PUBLISHED, HELD)),
            Event.registration_closes_at.is_not(None),
            Event.registration_closes_at <= now,
            Event.registration_closes_at >= earliest,
        )
        .order_by(Event.registration_closes_at, Event.id)
    ).all()
    if not events:
        return counts
    network_bases = _network_bases(session, {e.network_id for e in events if e.network_id})
    coordinators = coordinators_by_base(session, set().union(*(_event_bases(e, network_bases) for e in events)))
    tally: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event_id, status, number in session.exec(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_([e.id for e in events]))
        .group_by(Registration.event_id, Registration.status)
    ):
        tally[event_id][status] = number
    for event in events:
        confirmed, waitlisted = tally[event.id][CONFIRMED], tally[event.id][WAITLISTED]
        deadline = f"{event.registration_closes_at.astimezone(UTC):%Y%m%dT%H%M}"  # a new deadline, a new summary
        for user in _people(coordinators, _event_bases(event, network_bases)):
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


# Network planning ---------------------------------------------------------------------------------


def _dates_occasion(dates: list[date]) -> str:
    """The new drafts' dates as a key part: written out when short, else first, last and a digest."""
    written = ",".join(d.isoformat() for d in dates)
    if len(written) <= 120:
        return written
    digest = hashlib.sha256(written.encode()).hexdigest()[:16]
    return f"{dates[0].isoformat()}..{dates[-1].isoformat()}#{digest}"


def network_planning(session: Session, now: datetime) -> Counts:
    """Every network with a cadence has its meetings up to the horizon as drafts (plan_meetings, as
    «Planlegg møter» does, with no actor). When drafts were made, the coordinators of the network's
    bases are told which. A network whose cadence cannot be planned counts as failed and is left
    for its coordinators; the others are still planned."""
    now, counts = _aware(now), Counts()
    today = to_oslo(now).date()
    until = today + relativedelta(months=current_app.config["PLANNING_HORIZON_MONTHS"])
    networks = session.exec(select(Network).where(Network.cadence != "").order_by(Network.id)).all()
    coordinators = None
    for network in networks:
        try:
            # Look before planning: plan_meetings locks the network and writes to the activity log even
            # when there is nothing to make, which a nightly run should not do.
            dates = network_queries.occurrences(network, today, until)
            taken = (
                set(
                    session.exec(
                        select(Event.series_date).where(Event.network_id == network.id, Event.series_date.in_(dates))
                    )
                )
                if dates
                else set()
            )
            if not set(dates) - taken:
                continue
            result = plan_meetings(session, None, network, until=until, today=today)
        except (OperationError, network_queries.CadenceError) as error:
            counts.failed += 1
            log.warning("Network %s could not be planned (%s)", network.id, type(error).__name__)
            continue
        if not result.created:
            continue
        created = sorted(result.created, key=lambda e: (e.series_date or date.min, e.id))
        occasion = _dates_occasion([e.series_date for e in created])
        if coordinators is None:
            coordinators = coordinators_by_base(session)
        for user in _people(coordinators, network_queries.base_ids(session, network.id)):
            notify_once(
                session,
                counts,
                job="network_planning",
                key=f"planning:{network.id}:{user.id}:{occasion}",
                email=user.email,
                user_id=user.id,
                kind="planning",
                subject=f"Nye møteutkast: {network.name}",
                template="planning",
                network=network,
                user=user,
                created=created,
                refused=result.refused,
                until=until,
            )
    return counts


# Referral follow-up -------------------------------------------------------------------------------


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Norwegian public holiday."""
    return day.weekday() < 5 and holiday_name(day) is None


def working_days_between(first: date, last: date) -> int:
    """The working days after `first` and before `last`: the whole working days that have passed
    since something happened on `first`, seen on `last`."""
    count, day = 0, first + timedelta(days=1)
    while day < last:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


@dataclass
class _Recipient:
    user: User
    role: str  # "team" or "leader"


def referral_follow_up(session: Session, now: datetime) -> Counts:
    """A referral still «sent» after N whole working days (NETTVERK_REFERRAL_FOLLOW_UP_DAYS; weekends and
    Norwegian public holidays do not count) reminds the providing team; after 2N the team again and
    the service's leaders too. Only the stage that is due is sent (a scheduler that was down does not
    send both at once). The mail names the tiltak and links to the referral, nothing else."""
    now, counts = _aware(now), Counts()
    limit = current_app.config["REFERRAL_FOLLOW_UP_DAYS"]
    today = to_oslo(now).date()
    rows = session.exec(
        select(Referral, Intervention)
        .join(Intervention, Intervention.id == Referral.intervention_id)
        .where(
            Referral.status == SENT, Referral.sent_at.is_not(None), Referral.sent_at <= now - timedelta(days=limit)
        )  # fewer days cannot be enough
        .order_by(Referral.sent_at, Referral.id)
    ).all()
    if not rows:
        return counts
    people: dict[tuple[int, str], list[User]] = defaultdict(list)
    for role, service_id, user in session.exec(
        select(RoleAssignment.role, RoleAssignment.service_id, User)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.role.in_(("provider", "service_leader")),
            User.is_active,
            RoleAssignment.service_id.in_({i.provider_service_id for _, i in rows}),
        )
        .order_by(User.id)
    ):
        people[(service_id, role)].append(user)
    for referral, intervention in rows:
        days = working_days_between(to_oslo(referral.sent_at).date(), today)
        if days < limit:
            continue
        stage = 2 if days >= 2 * limit else 1
        recipients: dict[int, _Recipient] = {}
        for user in people[(intervention.provider_service_id, "provider")]:
            recipients.setdefault(user.id, _Recipient(user, "team"))
        if stage == 2:
            for user in people[(intervention.provider_service_id, "service_leader")]:
                recipients.setdefault(user.id, _Recipient(user, "leader"))
        for recipient in recipients.values():
            notify_once(
                session,
                counts,
                job="referral_follow_up",
                key=f"referral_follow_up:{referral.id}:{recipient.user.id}:{stage}",
                email=recipient.user.email,
                user_id=recipient.user.id,
                kind="referral_follow_up",
                subject=f"Henvendelse til {intervention.name} er ikke bekreftet mottatt",
                template="referral_follow_up",
                intervention=intervention,
                referral=referral,
                days=days,
                role=recipient.role,
                stage=stage,
            )
    return counts


# Coverage -----------------------------------------------------------------------------------------


def _units(count: int) -> str:
    return "1 enhet" if count == 1 else f"{count} enheter"


def coverage(session: Session, now: datetime) -> Counts:
    """Once a month each coordinator of a base with BTI networks gets the base's units with fewer than
    two ressurspersoner (the coverage page's list), unless there are none."""
    now, counts = _aware(now), Counts()
    local = to_oslo(now)
    month = f"{local:%Y-%m}"
    coordinators = coordinators_by_base(session)
    if not coordinators:
        return counts
    bases = session.exec(
        select(CompetenceBase).where(CompetenceBase.id.in_(coordinators)).order_by(CompetenceBase.id)
    ).all()
    for base in bases:
        result = network_queries.coverage(session, base, today=local.date())
        if not result.bti_networks or not result.units_missing:
            continue
        for user in coordinators[base.id]:
            notify_once(
                session,
                counts,
                job="coverage",
                key=f"coverage:{base.id}:{user.id}:{month}",
                email=user.email,
                user_id=user.id,
                kind="coverage",
                subject=f"Dekning i {base.name}: {_units(len(result.units_missing))} med færre enn to ressurspersoner",
                template="coverage",
                base=base,
                user=user,
                coverage=result,
                month=local.date(),
            )
    return counts


# Weekly digest ------------------------------------------------------------------------------------


def masked(count: int) -> str:
    """A count as the statistics show it: 1 and 2 are «<3» (referrals.statistics)."""
    return SMALL_TEXT if 0 < count < THRESHOLD else str(count)


@dataclass
class DigestEvent:
    event: Event
    confirmed: int
    waitlisted: int


@dataclass
class DigestTiltak:
    intervention: Intervention
    base: CompetenceBase
    counts: dict[str, str]  # status -> masked count


def weekly_digest(session: Session, now: datetime) -> Counts:
    """Each coordinator gets, once per ISO week, the coming gatherings of their bases (the next four
    weeks, drafts marked) with registration numbers, and the open referrals per tiltak of their bases
    as masked counts. Never a name, a case or any other text from a referral. Nothing to tell: no mail."""
    now, counts = _aware(now), Counts()
    local = to_oslo(now)
    year, week, _ = local.isocalendar()
    coordinators = coordinators_by_base(session)
    if not coordinators:
        return counts
    base_ids = set(coordinators)
    bases = {b.id: b for b in session.exec(select(CompetenceBase).where(CompetenceBase.id.in_(base_ids)))}
    network_ids = set(session.exec(select(NetworkBase.network_id).where(NetworkBase.base_id.in_(base_ids))))
    network_bases = _network_bases(session, network_ids)

    events = session.exec(
        select(Event)
        .where(
            Event.status.in_((PUBLISHED, DRAFT)),
            Event.starts_at >= now,
            Event.starts_at < now + timedelta(weeks=DIGEST_WEEKS),
            or_(Event.base_id.in_(base_ids), Event.network_id.in_(network_ids or {0})),
        )
        .order_by(Event.starts_at, Event.id)
    ).all()
    tally: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if events:
        for event_id, status, number in session.exec(
            select(Registration.event_id, Registration.status, func.count())
            .where(Registration.event_id.in_([e.id for e in events]), Registration.status.in_((CONFIRMED, WAITLISTED)))
            .group_by(Registration.event_id, Registration.status)
        ):
            tally[event_id][status] = number
    coming = [
        (DigestEvent(e, tally[e.id][CONFIRMED], tally[e.id][WAITLISTED]), _event_bases(e, network_bases))
        for e in events
    ]

    open_counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    interventions = session.exec(select(Intervention).where(Intervention.base_id.in_(base_ids))).all()
    if interventions:
        for intervention_id, status, number in session.exec(
            select(Referral.intervention_id, Referral.status, func.count())
            .where(
                Referral.intervention_id.in_([i.id for i in interventions]), Referral.status.in_(OPEN_REFERRAL_STATUSES)
            )
            .group_by(Referral.intervention_id, Referral.status)
        ):
            open_counts[intervention_id][status] = number
    tiltak = sorted(
        (
            DigestTiltak(i, bases[i.base_id], {s: masked(open_counts[i.id][s]) for s in OPEN_REFERRAL_STATUSES})
            for i in interventions
            if any(open_counts[i.id].values())
        ),
        key=lambda row: (norwegian_key(row.base.name), norwegian_key(row.intervention.name)),
    )

    people: dict[int, tuple[User, set[int]]] = {}
    for base_id, users in coordinators.items():
        for user in users:
            people.setdefault(user.id, (user, set()))[1].add(base_id)
    for user_id in sorted(people):
        user, mine = people[user_id]
        my_events = [row for row, event_bases in coming if event_bases & mine]
        my_tiltak = [row for row in tiltak if row.intervention.base_id in mine]
        if not my_events and not my_tiltak:
            continue
        notify_once(
            session,
            counts,
            job="weekly_digest",
            key=f"digest:{user.id}:{year}-W{week:02d}",
            email=user.email,
            user_id=user.id,
            kind="digest",
            subject=f"Ukeoversikt for uke {week}",
            template="digest",
            user=user,
            week=week,
            events=my_events,
            tiltak=my_tiltak,
            labels=DIGEST_LABELS,
            statuses=OPEN_REFERRAL_STATUSES,
            bases=sorted((bases[b] for b in mine), key=lambda b: norwegian_key(b.name)),
            until=format_date(local.date() + timedelta(weeks=DIGEST_WEEKS)),
        )
    return counts
