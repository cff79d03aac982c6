"""The timed jobs. Each is `job(session, now) -> Counts`: it selects what is due and not yet done,
does it through the same operations the pages use, and sends through `notify_once`, so running it
twice, or in two processes, sends nothing twice. `runner.run_job` gives each run its own transaction.
"""

from datetime import datetime

from flask import current_app
from sqlmodel import Session

from nettverk.mail.operations import deliver_due, smtp_configured
from nettverk.referrals.operations import erase_expired
from nettverk.scheduler.operations import Counts


def deliver_mail(session: Session, now: datetime) -> Counts:
    """Send what the outbox holds (new mail, and failed mail whose retry time has come)."""
    if not smtp_configured():
        return Counts()
    session.commit()  # deliver claims each message in its own transaction
    result = deliver_due(session)
    return Counts(sent=result["sent"], failed=result["failed"])


def retention(session: Session, now: datetime) -> Counts:
    """Erase the free text of referrals finished longer ago than the retention period."""
    return Counts(sent=erase_expired(session, current_app.config["REFERRAL_RETENTION_MONTHS"], now))


