"""The timed job for the registry (registered in scheduler/runner.py JOBS): planned mergers carried out on
their day."""

import logging
from datetime import datetime

from sqlmodel import Session, select

from nettverk.errors import OperationError
from nettverk.registry.models import MergerStatus, PlannedMerger
from nettverk.registry.operations import carry_out_merger
from nettverk.scheduler.operations import Counts
from nettverk.timeutil import to_oslo

log = logging.getLogger("nettverk.scheduler")


def mergers(session: Session, now: datetime) -> Counts:
    """Carry out the planned mergers whose date (an Oslo day) has come, each once (carry_out_merger claims
    it). One that can no longer be carried out is counted as failed and stays planned, for the admin."""
    counts, today = Counts(), to_oslo(now).date()
    due = session.exec(
        select(PlannedMerger)
        .where(PlannedMerger.status == MergerStatus.PLANNED, PlannedMerger.effective_date <= today)
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
