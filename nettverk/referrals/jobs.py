"""The timed jobs for referrals (registered in scheduler/runner.py JOBS): the follow-up of referrals not yet
received, and the retention that erases old free text. Mail about referrals carries no content: the tiltak's
name, a number, a link. How a job runs and keys its notices: scheduler/runner.py and scheduler/operations.py."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.referrals.models import Intervention, Referral, ReferralStatus
from nettverk.referrals.operations import erase_expired
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.timeutil import holiday_name, to_oslo


def retention(session: Session, now: datetime) -> Counts:
    """Erase the free text of referrals finished longer ago than the retention period."""
    return Counts(sent=erase_expired(session, current_app.config["REFERRAL_RETENTION_MONTHS"], now))


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
    counts = Counts()
    limit = current_app.config["REFERRAL_FOLLOW_UP_DAYS"]
    today = to_oslo(now).date()
    rows = session.exec(
        select(Referral, Intervention)
        .join(Intervention, Intervention.id == Referral.intervention_id)
        .where(
            Referral.status == ReferralStatus.SENT,
            Referral.sent_at.is_not(None),
            Referral.sent_at <= now - timedelta(days=limit),
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
