"""Personal calendar feeds: the secret in the URL is stored only as a hash."""

from datetime import datetime

from sqlalchemy import BigInteger, Text
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


class RenderedEvent(SQLModel, table=True):
    """The rendered VEVENT of one event in a feed, shared by every worker: a feed is assembled from these,
    and only the events whose entry changed since are rendered again. `digest` covers everything the
    VEVENT shows (the whole calendar entry, the sender address, the renderer's version), so a row with
    another digest is simply stale and replaced. No foreign key: a cache row never blocks deleting an event."""

    __tablename__ = "calendar_rendered_event"
    event_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    alarm_minutes: int = Field(default=0, primary_key=True, sa_column_kwargs={"autoincrement": False})  # 0: none
    busy: bool = Field(default=False, primary_key=True)  # as in a personal feed (Entry.busy)
    digest: str = Field(max_length=64)
    body: str = Field(sa_type=Text)  # the VEVENT's lines, as in the feed


class CalendarDataVersion(SQLModel, table=True):
    """SQLite: two rows whose `version` triggers raise on every change of a table a feed's fingerprint reads
    (migrations 7a4c0d25f3b8, 8c6e2f47a5d9): 1 for what public feeds show, 2 for what only personal feeds show
    (queries.DataVersion). PostgreSQL uses the sequences calendar_data_version_seq and
    calendar_people_version_seq instead."""

    __tablename__ = "calendar_data_version"
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = 0


class CalendarFingerprint(SQLModel, table=True):
    """A feed's fingerprint (ETag, Last-Modified) shared by every worker, with the data version it was
    computed at and until when time alone cannot change it: a poll that finds it current costs two small
    queries instead of the aggregate over the feed's events, whichever worker answers."""

    __tablename__ = "calendar_fingerprint"
    key: str = Field(primary_key=True, max_length=64)  # SHA-256 hex of the feed's scope key and reminder
    version: int = Field(sa_type=BigInteger)
    computed_at: datetime
    valid_until: datetime | None = None
    etag: str = Field(max_length=40)
    last_modified: datetime | None = None
