"""The scheduler process (`nettverk scheduler`): APScheduler with its jobs stored in the application
database, run by one process at a time. It only registers and runs the jobs (JOBS); each job lives with its
data, in the owning domain's jobs.py.

A job is `job(session, now) -> Counts`: it selects what is due and not yet done, does it through the same
operations the pages use, and sends through `operations.notify_once`, so running it twice, or in two
processes, sends nothing twice. `run_job` gives each run its own transaction and an aware UTC `now`.

Every notice has a key (job, object, recipient, occasion); the occasion is what makes a new notice of the
same kind legitimate: the reminder's days before this start time, the deadline that passed, the dates of the
new drafts, the follow-up stage, the month, the ISO week. Time comes only from `now`, read as Europe/Oslo
where a day, a week or a month is meant, so a test can set the clock and the DST nights behave: a moment is
an instant, and an hourly run that comes twice in the doubled hour of October finds its notice already sent.
Mail about referrals carries no content: the tiltak's name, a number, a link. Log lines name ids only.

One at a time: a process holds the lease row `scheduler_lease` and renews it every RENEW seconds; a
second process (on another host too) waits, and takes over when the lease runs out because the
holder died. Should two ever run at once (a holder that stalled past its lease), every notice is
still sent once: `operations.notify_once` keys each one in the database.

Missed runs: the jobs live in the `apscheduler_jobs` table (created by a migration), so after a stop
APScheduler finds their next run time in the past and runs each once (coalesced), not once per
missed run. Schedules are in Europe/Oslo and keep away from 02:00–03:00, the hour that is missing
or doubled on the DST nights; the hourly reminder job may run twice in the doubled hour, and finds
its notices already sent the second time.
"""

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from nettverk.db import get_engine
from nettverk.scheduler.models import JobRun, RunStatus, SchedulerLease
from nettverk.timeutil import OSLO, utcnow

log = logging.getLogger("nettverk.scheduler")

LEASE_NAME = "scheduler"
# A dead holder's lease runs out within LEASE of its last renewal, and a waiting scheduler tries every RENEW
# seconds: it takes over at most LEASE + RENEW (50 s) after the holder died, inside the README's promise
# (TAKEOVER). A live holder renews four times per lease, so three missed renewals in a row do not lose it.
LEASE = timedelta(seconds=40)
RENEW = 10  # seconds between renewals (and between tries while waiting)
TAKEOVER = timedelta(minutes=1)  # README, "One at a time": a dead scheduler is replaced within a minute
# A missed run is made up once on start however late: every job does "what is due and not yet done",
# so running it late is always right (None: no limit, in APScheduler 3).
MISFIRE_GRACE = None


@dataclass(frozen=True)
class JobSpec:
    name: str
    label: str  # Norwegian, for the operator's page
    function: str  # "module:function" in the owning domain's jobs.py, called as function(session, now) -> Counts
    trigger: object
    # A job that runs every few seconds: a run is recorded only when it sent, failed or broke something (the
    # operator's page and the run log would drown otherwise), and it takes no write lock up front, as it
    # writes in short transactions of its own.
    quiet: bool = False


JOBS = [
    # Requests only queue mail; this is what sends it, so it runs often enough that mail leaves within seconds.
    JobSpec(
        "deliver_mail",
        "Send e-post fra utboksen",
        "nettverk.mail.jobs:deliver_mail",
        IntervalTrigger(seconds=5, timezone=OSLO),
        quiet=True,
    ),
    JobSpec(
        "reminders",
        "Påminnelser før arrangementer",
        "nettverk.events.jobs:reminders",
        CronTrigger(minute=5, timezone=OSLO),
    ),
    JobSpec(
        "registration_closed",
        "Oppsummering når påmeldingen stenger",
        "nettverk.events.jobs:registration_closed",
        CronTrigger(minute=35, timezone=OSLO),
    ),
    JobSpec(
        "network_planning",
        "Møteutkast fra nettverkenes møterytme",
        "nettverk.networks.jobs:network_planning",
        CronTrigger(hour=5, minute=0, timezone=OSLO),
    ),
    JobSpec(
        "referral_follow_up",
        "Oppfølging av henvendelser som ikke er mottatt",
        "nettverk.referrals.jobs:referral_follow_up",
        CronTrigger(day_of_week="mon-fri", hour=8, minute=0, timezone=OSLO),
    ),
    JobSpec(
        "coverage",
        "Månedlig dekningsoversikt",
        "nettverk.networks.jobs:coverage",
        CronTrigger(day=1, hour=7, minute=0, timezone=OSLO),
    ),
    JobSpec(
        "retention",
        "Sletting av innhold i gamle henvendelser",
        "nettverk.referrals.jobs:retention",
        CronTrigger(hour=1, minute=30, timezone=OSLO),
    ),
    JobSpec(
        "weekly_digest",
        "Ukentlig oversikt til koordinatorer",
        "nettverk.digest:weekly_digest",
        CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=OSLO),
    ),
    JobSpec(
        "competence_expiry",
        "Kompetanse som utløper innen seks måneder",
        "nettverk.competence.jobs:competence_expiry",
        CronTrigger(day=1, hour=7, minute=15, timezone=OSLO),
    ),
    JobSpec(
        "evaluations",
        "Evaluering etter fagdager og kurs",
        "nettverk.evaluations.jobs:send_invitations",
        CronTrigger(hour=17, minute=0, timezone=OSLO),
    ),
    JobSpec(
        "mergers",
        "Planlagte sammenslåinger av kommuner",
        "nettverk.registry.jobs:mergers",
        CronTrigger(hour=0, minute=5, timezone=OSLO),
    ),
    JobSpec(
        "feed_cache",
        "Opprydding i kalenderfeedenes lager",
        "nettverk.calendars.jobs:prune_feed_cache",
        CronTrigger(hour=1, minute=45, timezone=OSLO),
    ),
]
JOBS_BY_NAME = {job.name: job for job in JOBS}

_app: Flask | None = None  # the process's app, for jobs APScheduler calls by reference


# Running one job ----------------------------------------------------------------------------------


def _resolve(reference: str):
    module, name = reference.split(":")
    return getattr(__import__(module, fromlist=[name]), name)


def run_job(name: str, now: datetime | None = None, app: Flask | None = None) -> JobRun:
    """Run one job in its own transaction and record the run. A failure rolls the whole job back (no
    notice of it is queued) and is recorded with the error's kind; the next run tries again."""
    app = app or _app
    spec = JOBS_BY_NAME[name]
    with app.app_context():
        engine = get_engine()
        run = JobRun(job=name)
        if not spec.quiet:
            with Session(engine) as bookkeeping:
                bookkeeping.add(run)
                bookkeeping.commit()
                bookkeeping.refresh(run)
        with Session(engine, expire_on_commit=False) as session:
            try:
                # Take the write lock first, as write requests do (a quiet job writes in short transactions).
                if engine.dialect.name == "sqlite" and not spec.quiet:
                    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                counts = _resolve(spec.function)(session, _aware(now or utcnow()))
                session.commit()
                run.status, run.sent, run.skipped, run.failed = RunStatus.OK, counts.sent, counts.skipped, counts.failed
            except Exception as error:  # noqa: BLE001 - recorded for the operator, and logged
                session.rollback()
                log.exception("Job %s failed", name)
                run.status, run.message = RunStatus.FAILED, f"{type(error).__name__}"[:1000]
        if spec.quiet and run.status == RunStatus.OK and not (run.sent or run.failed):
            return run  # nothing done: not recorded
        with Session(engine) as bookkeeping:
            run.finished_at = utcnow()
            bookkeeping.add(run)
            bookkeeping.commit()
            bookkeeping.refresh(run)
        log.info("Job %s: %s, sent %s, skipped %s, failed %s", name, run.status, run.sent, run.skipped, run.failed)
        return run


def _aware(now: datetime) -> datetime:
    """Every job gets an aware UTC `now`; a caller's naive clock (a test's) is read as UTC."""
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _run_from_scheduler(name: str) -> None:
    run_job(name)


# The lease ----------------------------------------------------------------------------------------


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def try_lease(engine, holder: str, now: datetime | None = None) -> bool:
    """Take or renew the lease: succeeds if it is free, expired, or already ours (one UPDATE)."""
    now = now or utcnow()
    with Session(engine) as session:
        if engine.dialect.name == "sqlite":
            # Take the write lock before reading: a read transaction that writes later fails at once with
            # "database is locked" when another connection wrote in between (SQLITE_BUSY_SNAPSHOT).
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        if session.get(SchedulerLease, LEASE_NAME) is None:
            try:
                session.add(SchedulerLease(name=LEASE_NAME, holder="", expires_at=now - LEASE))
                session.commit()
            except IntegrityError:  # another process made it at the same moment
                session.rollback()
        result = session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == LEASE_NAME, or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now)
            )
            .values(holder=holder, expires_at=now + LEASE)
        )
        session.commit()
        return result.rowcount == 1


def release_lease(engine, holder: str) -> None:
    with Session(engine) as session:
        session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
            .values(holder="", expires_at=utcnow() - LEASE)
        )
        session.commit()


# The process --------------------------------------------------------------------------------------


def build_scheduler(engine) -> BackgroundScheduler:
    """APScheduler with the jobs in the database. A job whose schedule is unchanged is kept as stored,
    so a run missed while no scheduler was up is made up once when this one starts."""
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
        timezone=OSLO,
    )
    scheduler.start(paused=True)
    for spec in JOBS:
        stored = scheduler.get_job(spec.name)
        if stored is not None and str(stored.trigger) == str(spec.trigger):
            continue
        scheduler.add_job(
            f"{__name__}:_run_from_scheduler",
            trigger=spec.trigger,
            args=[spec.name],
            id=spec.name,
            name=spec.label,
            replace_existing=True,
        )
    known = {spec.name for spec in JOBS}
    for job in scheduler.get_jobs():
        if job.id not in known:  # a job this version no longer has
            job.remove()
    return scheduler


def serve(app: Flask, stop: threading.Event | None = None) -> None:
    """Wait for the lease, run the jobs while holding it, give it up on stop."""
    global _app
    _app = app
    # APScheduler logs two lines for every run, every 5 s for deliver_mail; run_job logs the runs it records.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    stop = stop or threading.Event()
    holder = holder_id()
    with app.app_context():
        engine = get_engine()
    while not stop.is_set():
        if not try_lease(engine, holder):
            log.info("Another scheduler holds the lease; waiting")
            stop.wait(RENEW)
            continue
        log.info("Scheduler %s holds the lease and starts its jobs", holder)
        scheduler = build_scheduler(engine)
        scheduler.resume()
        try:
            while not stop.wait(RENEW):
                if not try_lease(engine, holder):
                    log.warning("Scheduler %s lost the lease; stopping its jobs", holder)
                    break
        finally:
            scheduler.shutdown(wait=True)
    release_lease(engine, holder)
