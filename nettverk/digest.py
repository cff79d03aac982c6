"""The coordinators' weekly digest (the `weekly_digest` job, registered in scheduler/runner.py JOBS): the
coming gatherings of their bases and the open referrals per tiltak as masked counts.

It reads two domains, events and referrals, that know nothing of each other, so it sits above both rather
than making one import the other. Mail about referrals carries no content: counts only, masked."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from nettverk.accounts.models import User
from nettverk.accounts.queries import coordinators_by_base
from nettverk.events.jobs import bases_of_networks, event_bases
from nettverk.events.models import Event, EventStatus, Registration, RegistrationStatus
from nettverk.networks.models import NetworkBase
from nettverk.privacy.masking import masked_count
from nettverk.referrals.models import Intervention, Referral, ReferralStatus
from nettverk.registry.models import CompetenceBase
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.text import norwegian_key
from nettverk.timeutil import format_date, to_oslo

DIGEST_WEEKS = 4
OPEN_REFERRAL_STATUSES = (
    ReferralStatus.SENT,
    ReferralStatus.RECEIVED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.IN_PROGRESS,
)  # what the digest counts, in this order
DIGEST_LABELS = {
    ReferralStatus.SENT: "Sendt",
    ReferralStatus.RECEIVED: "Mottatt",
    ReferralStatus.ACCEPTED: "Venter på oppstart",
    ReferralStatus.IN_PROGRESS: "I gang",
}


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
    counts = Counts()
    local = to_oslo(now)
    year, week, _ = local.isocalendar()
    coordinators = coordinators_by_base(session)
    if not coordinators:
        return counts
    base_ids = set(coordinators)
    bases = {b.id: b for b in session.exec(select(CompetenceBase).where(CompetenceBase.id.in_(base_ids)))}
    network_ids = set(session.exec(select(NetworkBase.network_id).where(NetworkBase.base_id.in_(base_ids))))
    network_bases = bases_of_networks(session, network_ids)

    events = session.exec(
        select(Event)
        .where(
            Event.status.in_((EventStatus.PUBLISHED, EventStatus.DRAFT)),
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
            .where(
                Registration.event_id.in_([e.id for e in events]),
                Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)),
            )
            .group_by(Registration.event_id, Registration.status)
        ):
            tally[event_id][status] = number
    coming = [
        (
            DigestEvent(e, tally[e.id][RegistrationStatus.CONFIRMED], tally[e.id][RegistrationStatus.WAITLISTED]),
            event_bases(e, network_bases),
        )
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
            DigestTiltak(i, bases[i.base_id], {s: masked_count(open_counts[i.id][s]) for s in OPEN_REFERRAL_STATUSES})
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
