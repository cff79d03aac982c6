"""The timed jobs for networks (registered in scheduler/runner.py JOBS): meeting drafts from each network's
cadence, and the monthly coverage letter to the coordinators. How a job runs, keys its notices and reads the
clock: scheduler/runner.py and scheduler/operations.py (notify_once)."""

import hashlib
import logging
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlmodel import Session, select

from nettverk.accounts.queries import coordinators_by_base, coordinators_of
from nettverk.errors import OperationError
from nettverk.events.models import Event
from nettverk.networks import cadence
from nettverk.networks import queries as network_queries
from nettverk.networks.models import Network
from nettverk.networks.operations import plan_meetings
from nettverk.registry.models import CompetenceBase
from nettverk.scheduler.operations import Counts, notify_once
from nettverk.timeutil import to_oslo

log = logging.getLogger("nettverk.scheduler")


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
    counts = Counts()
    today = to_oslo(now).date()
    until = today + relativedelta(months=current_app.config["PLANNING_HORIZON_MONTHS"])
    networks = session.exec(select(Network).where(Network.cadence != "").order_by(Network.id)).all()
    coordinators = None
    for network in networks:
        try:
            # Look before planning: plan_meetings locks the network and writes to the activity log even
            # when there is nothing to make, which a nightly run should not do.
            dates = cadence.occurrences(network, today, until)
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
        except (OperationError, cadence.CadenceError) as error:
            counts.failed += 1
            log.warning("Network %s could not be planned (%s)", network.id, type(error).__name__)
            continue
        if not result.created:
            continue
        created = sorted(result.created, key=lambda e: (e.series_date or date.min, e.id))
        occasion = _dates_occasion([e.series_date for e in created])
        if coordinators is None:
            coordinators = coordinators_by_base(session)
        for user in coordinators_of(coordinators, network_queries.base_ids(session, network.id)):
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


# Coverage -----------------------------------------------------------------------------------------


def _units(count: int) -> str:
    return "1 enhet" if count == 1 else f"{count} enheter"


def coverage(session: Session, now: datetime) -> Counts:
    """Once a month each coordinator of a base with BTI networks gets the base's units with fewer than
    two ressurspersoner (the coverage page's list), unless there are none."""
    counts = Counts()
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
