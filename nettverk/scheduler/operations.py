"""Sending a timed notice exactly once, and the notice settings a person keeps.

`notify_once` is how every job sends: it checks the recipient's settings, then writes a
`Notification` row with the notice's unique key and queues the mail, both inside one savepoint. A
second run, a restarted scheduler or a second scheduler process finds the key taken (or is stopped
by the database's unique rule) and skips. Nothing here sends over SMTP: the outbox does that, with
its own claim and retries, so a mail server that is down loses nothing.
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from nettverk.activity import record
from nettverk.mail.operations import queue_mail
from nettverk.scheduler.models import Notification, NotificationSetting

# The kinds of notice a person can turn off, as the settings page names them.
KINDS = {
    "reminder": "Påminnelse før et arrangement du er påmeldt",
    "registration_closed": "Oppsummering når påmeldingen til et arrangement du planlegger stenger",
    "planning": "Beskjed når nye møteutkast er laget fra nettverkets møterytme",
    "referral_follow_up": "Påminnelse om henvendelser som ikke er bekreftet mottatt",
    "coverage": "Månedlig oversikt over enheter med færre enn to ressurspersoner",
    "digest": "Ukentlig oversikt for koordinatorer",
    "competence_expiry": "Beskjed om sertifiseringer og annen kompetanse som snart utløper",
    "evaluation": "Lenke til evaluering etter en fagdag eller et kurs du var med på",
}


@dataclass
class Counts:
    sent: int = 0
    skipped: int = 0  # already sent, or turned off by the recipient
    failed: int = 0

    def add(self, other: "Counts") -> "Counts":
        self.sent, self.skipped, self.failed = (
            self.sent + other.sent,
            self.skipped + other.skipped,
            self.failed + other.failed,
        )
        return self


def is_enabled(session: Session, user_id: int | None, kind: str) -> bool:
    if user_id is None:
        return True
    setting = session.get(NotificationSetting, (user_id, kind))
    return setting is None or setting.enabled


def notify_once(
    session: Session,
    counts: Counts,
    *,
    job: str,
    key: str,
    email: str,
    user_id: int | None,
    kind: str,
    subject: str,
    template: str,
    calendar: tuple[str, bytes] | None = None,
    **context,
) -> bool:
    """Queue one notice unless it was sent before under `key` or the recipient turned `kind` off."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    key = key[:200]  # the column's length; keys are built short, this only keeps the lookup and insert equal
    if not is_enabled(session, user_id, kind):
        counts.skipped += 1
        return False
    if session.exec(select(Notification.id).where(Notification.key == key)).first() is not None:
        counts.skipped += 1
        return False
    try:
        with session.begin_nested():
            notification = Notification(key=key, job=job, recipient=email)
            session.add(notification)
            session.flush()  # the unique key is taken here, or IntegrityError
            message = queue_mail(
                session,
                email,
                subject,
                template,
                calendar=calendar,
                notice_kind=kind,
                has_account=user_id is not None,
                **context,
            )
            notification.outbox_message_id = message.id
            session.add(notification)
    except IntegrityError:  # another run took the key between our check and our insert
        counts.skipped += 1
        return False
    counts.sent += 1
    return True


def set_enabled(session: Session, user, kinds_on: set[str]) -> None:
    """Save the settings page: every kind in KINDS is on if it is in `kinds_on`, off otherwise."""
    for kind in KINDS:
        setting = session.get(NotificationSetting, (user.id, kind))
        enabled = kind in kinds_on
        if setting is None:
            if enabled:
                continue
            setting = NotificationSetting(user_id=user.id, kind=kind)
        setting.enabled = enabled
        session.add(setting)
    record(session, user.id, "notifications.updated", user, ", ".join(sorted(kinds_on)) or "alle av")
