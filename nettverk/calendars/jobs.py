"""The scheduler job for the feeds (registered in scheduler/runner.py JOBS): each event's rendered VEVENT and
each feed's fingerprint are kept in the database for every worker (issue 8); at night, what no feed can use
any more is deleted, so those tables stay the size of what the feeds show."""

from datetime import datetime

from sqlmodel import Session

from nettverk.calendars.operations import prune_stored
from nettverk.scheduler.operations import Counts


def prune_feed_cache(session: Session, now: datetime) -> Counts:
    return Counts(sent=prune_stored(session, now))
