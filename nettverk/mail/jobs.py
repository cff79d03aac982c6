"""The timed job for mail (registered in scheduler/runner.py JOBS): the sender that empties the outbox."""

from datetime import datetime

from sqlmodel import Session

from nettverk.mail.operations import deliver_due, smtp_configured
from nettverk.scheduler.operations import Counts


def deliver_mail(session: Session, now: datetime) -> Counts:
    """Send what the outbox holds (new mail, and failed mail whose retry time has come). Runs every few
    seconds; each message is claimed with a conditional UPDATE, so two runs or two schedulers never send one
    twice."""
    if not smtp_configured():
        return Counts()
    session.commit()  # deliver claims each message in its own transaction
    result = deliver_due(session)
    return Counts(sent=result["sent"], failed=result["failed"])
