"""The outbox: every e-mail is a row first, written in the same transaction as the change that caused it."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow


class MailStatus(StrEnum):
    QUEUED = "queued"
    # Claimed by a sender (the scheduler's deliver_mail job or `mail send`) until it is sent or fails;
    # one whose sender died is due again when the claim's lease runs out.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


UNSENT = (MailStatus.QUEUED, MailStatus.SENDING, MailStatus.FAILED)
STATUS_LABELS: dict[str, str] = {
    MailStatus.QUEUED: "I kø",
    MailStatus.SENDING: "Sendes",
    MailStatus.SENT: "Sendt",
    MailStatus.FAILED: "Feilet, prøves igjen",
}


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=300)
    body_text: str
    body_html: str = ""
    # An iCalendar invitation sent as the text/calendar part (iTIP method REQUEST or CANCEL), if any.
    calendar_method: str = Field(default="", max_length=10)
    calendar_ics: str = ""
    status: str = Field(default=MailStatus.QUEUED, max_length=10, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class MailRequest(SQLModel, table=True):
    """One request by which anyone, logged in or not, made the platform mail an address they typed (a password
    reset, a guest registration): counted per address and per client across all workers, so nobody can make
    it mail someone without limit (NETTVERK_MAIL_MAX_PER_ADDRESS, NETTVERK_MAIL_MAX_PER_CLIENT, per hour)."""

    __tablename__ = "mail_request"
    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=254, index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
