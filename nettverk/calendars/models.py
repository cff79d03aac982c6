"""Personal calendar feeds: the secret in the URL is stored only as a hash."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow

ALARM_CHOICES = {None: "Ingen påminnelse", 15: "15 minutter før", 60: "1 time før", 1440: "Dagen før"}


class CalendarToken(SQLModel, table=True):
    """The key to one person's feed. A user or a guest (known only by the e-mail they confirmed) has
    at most one live token; a new one revokes the old, and a revoked token answers 404 at once."""
    __tablename__ = "calendar_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    guest_email: str = Field(default="", max_length=254, index=True)  # lower-case; only for guests
    token_hash: str = Field(max_length=64, unique=True)  # SHA-256 hex of the token
    alarm_minutes: int | None = None  # a reminder in every event of the feed, if the owner wants one
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = Field(default=None, index=True)
