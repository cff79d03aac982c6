"""Queue e-mail in the outbox (inside the caller's transaction) and deliver it over SMTP.

A message is a row before it is anything else: a rolled-back change never mails anyone, and a
message that cannot be delivered stays in the outbox, retried with growing delays, never dropped.
Requests only queue: the scheduler's deliver_mail job (every few seconds) and `nettverk mail send`
are the only senders, so a slow or hanging mail server never holds a web worker.
"""

import re
import smtplib
from contextlib import nullcontext
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, has_request_context, render_template
from sqlmodel import Session, delete, func, select, update

from nettverk.mail.models import UNSENT, MailRequest, MailStatus, OutboxMessage
from nettverk.timeutil import utcnow

MAX_BACKOFF = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=10)
# A one-time token in a link (secrets.token_urlsafe(32) is 43 characters).
SECRET_IN_LINK = re.compile(r"/[A-Za-z0-9_-]{40,}")
INVITATION_FILENAME = "invitation.ics"
# What may not stand in a header: a CR or LF would end it (and make delivery refuse the message).
HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
MAIL_REQUEST_WINDOW = timedelta(hours=1)
ADDRESS, CLIENT = "address", "client"


def header_text(value: str, length: int) -> str:
    """Data made into a one-line header (a subject with an event title): control characters become a space."""
    return HEADER_BREAKS.sub(" ", value or "").strip()[:length]


def mask_secrets(text: str) -> str:
    """Hide one-time tokens, so nobody who reads the outbox can use someone else's link."""
    return SECRET_IN_LINK.sub("/[skjult]", text)


def queue_mail(
    session: Session,
    to_address: str,
    subject: str,
    template: str,
    *,
    calendar: tuple[str, bytes] | None = None,
    **context,
) -> OutboxMessage:
    """Render templates/mail/<template>.txt and .html and put the message in the outbox.

    `calendar` is an iTIP invitation (method, iCalendar bytes) to send along, e.g. ("REQUEST", b"BEGIN:…");
    the templates see its method as `calendar_method` (empty without one) and can say what it is."""
    context.setdefault("base_url", current_app.config["BASE_URL"])
    method, ics = calendar or ("", b"")
    context["calendar_method"] = method
    # Outside a request (CLI, scheduler) url_for needs one to build links; make it on the public address.
    request_context = (
        nullcontext()
        if has_request_context()
        else current_app.test_request_context(base_url=current_app.config["BASE_URL"])
    )
    with request_context:
        message = OutboxMessage(
            to_address=header_text(to_address, 254),
            subject=header_text(subject, 300),
            body_text=render_template(f"mail/{template}.txt", **context),
            body_html=render_template(f"mail/{template}.html", **context),
            calendar_method=method,
            calendar_ics=ics.decode("utf-8"),
        )
    session.add(message)
    session.flush()
    return message


def smtp_configured() -> bool:
    return bool(current_app.config["SMTP_HOST"])


def mail_limit(session: Session, recipient: str, client: str) -> str | None:
    """Before a request mails an address its sender typed: ADDRESS or CLIENT when that one has had its hourly
    number of such mails, else None, and this request is counted (with the caller's transaction). Every
    request counts, whether it mails anyone or not, so the limit tells nothing about who has an account."""
    config = current_app.config
    since = utcnow() - MAIL_REQUEST_WINDOW
    recent = select(func.count()).select_from(MailRequest).where(MailRequest.at >= since)
    if session.exec(recent.where(MailRequest.client == client[:64])).one() >= config["MAIL_MAX_PER_CLIENT"]:
        return CLIENT
    if session.exec(recent.where(MailRequest.recipient == recipient[:254])).one() >= config["MAIL_MAX_PER_ADDRESS"]:
        return ADDRESS
    session.execute(delete(MailRequest).where(MailRequest.at < since))  # older requests no longer count
    session.add(MailRequest(recipient=recipient[:254], client=client[:64]))
    session.flush()
    return None


def deliver_due(session: Session, limit: int = 200) -> dict:
    """Send every message that is due (queued, failed and past its retry time, or claimed by a sender that died).
    With nothing due it is one query on the indexed status."""
    due = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(UNSENT), OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return deliver(session, due)


def retry_failed_now(session: Session) -> int:
    """Make every failed message due at once (the operator has mended the mail server); the sender takes them
    on its next run. Claimed messages (SENDING) are left alone, so none is sent twice."""
    return session.execute(
        update(OutboxMessage).where(OutboxMessage.status == MailStatus.FAILED).values(next_attempt_at=utcnow())
    ).rowcount


def deliver(session: Session, query) -> dict:
    counts = {"sent": 0, "failed": 0}
    candidates = list(session.exec(query))
    session.commit()  # end the read transaction: on SQLite a write from an old snapshot would fail
    messages = [m for m in candidates if _claim(session, m)]
    if not messages:
        return counts
    config = current_app.config
    try:
        connection = _connect(config)
    except Exception as exc:  # noqa: BLE001 - whatever it is, the messages wait for their retry
        for message in messages:
            _mark_failed(message, f"Kunne ikke koble til e-posttjeneren: {exc}")
        session.commit()
        counts["failed"] = len(messages)
        return counts
    with connection:
        for message in messages:
            # Any error fails this message alone (a row stored with a line break in its subject raises
            # ValueError): it is marked with the reason, and the messages after it still go.
            try:
                email = _to_email(message, config["MAIL_FROM"])
            except Exception as exc:  # noqa: BLE001
                _mark_failed(message, f"Meldingen kunne ikke lages: {type(exc).__name__}: {exc}")
                counts["failed"] += 1
                session.add(message)
                session.commit()
                continue
            try:
                connection.send_message(email)
            except Exception as exc:  # noqa: BLE001
                _mark_failed(message, f"{type(exc).__name__}: {exc}")
                counts["failed"] += 1
            else:
                message.status, message.sent_at, message.last_error = MailStatus.SENT, utcnow(), ""
                # Delivered: the stored copy no longer needs a working link.
                message.body_text, message.body_html = mask_secrets(message.body_text), mask_secrets(message.body_html)
                counts["sent"] += 1
            session.add(message)
            session.commit()  # one message at a time: a crash never resends what already went out
    return counts


def _claim(session: Session, message: OutboxMessage) -> bool:
    """Take a message for this sender (compare-and-set on its attempt count), so two workers or a
    worker and `mail send` never send it both. A sender that dies after claiming leaves the message
    due again when the lease runs out."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id, OutboxMessage.attempts == message.attempts, OutboxMessage.status.in_(UNSENT)
        )
        .values(status=MailStatus.SENDING, attempts=message.attempts + 1, next_attempt_at=utcnow() + CLAIM_LEASE)
    )
    session.commit()
    if result.rowcount != 1:
        return False
    session.refresh(message)
    return True


def _connect(config) -> smtplib.SMTP:
    connection = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
    connection.ehlo()
    if config["SMTP_STARTTLS"] and connection.has_extn("starttls"):
        connection.starttls()
        connection.ehlo()
    if config["SMTP_USER"]:
        connection.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    return connection


def _mark_failed(message: OutboxMessage, reason: str) -> None:
    message.status = MailStatus.FAILED
    message.last_error = reason[:1000]
    message.next_attempt_at = utcnow() + min(timedelta(minutes=2**message.attempts), MAX_BACKOFF)


def _to_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())  # required by RFC 5322; smtplib does not add it
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}", domain="nettverk")
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    if message.calendar_method:
        # The invitation as the last alternative (text/calendar; method=…): Outlook, Gmail and Apple Mail
        # show it as a meeting request with its buttons. The same bytes go along as invitation.ics too
        # (application/ics, as Google Calendar sends it), so that a client that shows only the text or HTML
        # still offers a file to open, which is what the text of the e-mail tells the reader to do.
        ics = message.calendar_ics.encode("utf-8")
        email.add_alternative(
            ics,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": message.calendar_method, "charset": "utf-8"},
        )
        email.add_attachment(ics, maintype="application", subtype="ics", filename=INVITATION_FILENAME)
    return email
