"""What the scheduler keeps: who may run it (the lease), what each run did, every notification sent
(so none is sent twice), and which kinds of notice each person has turned off."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow


class RunStatus(StrEnum):
    RUNNING = "running"  # also a run whose process died before it finished
    OK = "ok"
    FAILED = "failed"


RUN_STATUSES: dict[str, str] = {
    RunStatus.OK: "Fullført",
    RunStatus.FAILED: "Feilet",
    RunStatus.RUNNING: "Ikke ferdig (kjører, eller ble avbrutt)",
}


class SchedulerLease(SQLModel, table=True):
    """One row per lease name. The holder renews it while it runs; a second scheduler process waits
    until the lease has expired (its holder died) and then takes over."""

    __tablename__ = "scheduler_lease"
    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(default="", max_length=120)  # host:pid:random
    expires_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """A message that has been queued, under a unique key (job, object, recipient, occasion). The row
    is written in the same transaction as the mail it stands for: the database's unique rule lets only
    one of two runs (or two schedulers) commit it, so each notice is sent once."""

    __tablename__ = "notification"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    job: str = Field(max_length=40, index=True)
    recipient: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    outbox_message_id: int | None = Field(default=None, foreign_key="outbox_message.id")


class JobRun(SQLModel, table=True):
    """One run of a job, for the operator's page."""

    __tablename__ = "job_run"
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40, index=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    status: str = Field(default=RunStatus.RUNNING, max_length=10)
    sent: int = 0
    skipped: int = 0  # already sent before, or turned off by the recipient
    failed: int = 0
    message: str = Field(default="", max_length=1000)  # never personal data


class NotificationSetting(SQLModel, table=True):
    """A kind of notice a user has turned off (no row: on)."""

    __tablename__ = "notification_setting"
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    kind: str = Field(primary_key=True, max_length=40)
    enabled: bool = True


# APScheduler's job store (apscheduler.jobstores.sqlalchemy creates the same table); declared here so
# that the schema, like every other table, changes only through migrations.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
