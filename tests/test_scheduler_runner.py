"""The scheduler process: one holder of the lease at a time (two schedulers at once, a holder that stops
or dies), missed runs made up once, a job that fails halfway leaves nothing and sends once on the rerun,
mail kept while SMTP is down (a real SMTP server on loopback), the operator's page and the notice
settings. APScheduler runs for real; the tests wait for conditions, with timeouts, not for fixed times."""

import pickle
import re
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_SCHEDULER_SHUTDOWN
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from conftest import USERS, Browser, outbox
from sqlalchemy import update
from sqlmodel import Session, func, select
from test_mail import SMTPServer, free_port

from nettverk import create_app
from nettverk.accounts.models import User
from nettverk.db import get_session
from nettverk.mail.models import MailStatus, OutboxMessage
from nettverk.mail.operations import queue_mail
from nettverk.scheduler import runner
from nettverk.scheduler.models import JobRun, Notification, NotificationSetting, SchedulerLease, apscheduler_jobs
from nettverk.scheduler.operations import KINDS, Counts, notify_once
from nettverk.scheduler.views import schedule_in_words
from nettverk.timeutil import OSLO, format_datetime, utcnow

# Test jobs, called by reference ("module:function") like the real ones -----------------------------------

TICKS: list[float] = []
CRASH = {"on": False}
RECIPIENTS = [USERS["participant"], USERS["coordinator"], USERS["provider"]]


def tick(session, now):
    TICKS.append(time.monotonic())
    return Counts(sent=1)


def notices_then_crash(session, now):
    """Queue a weekly notice to three people, then (while CRASH is on) fail, as a scheduler killed in the
    middle of the job would."""
    counts = Counts()
    for email in RECIPIENTS:
        user = session.exec(select(User).where(User.email == email)).one()
        notify_once(
            session,
            counts,
            job="test_notices",
            key=f"test_notices:{user.id}:2026-W10",
            email=email,
            user_id=user.id,
            kind="digest",
            subject="Ukens oversikt",
            template="role_granted",
            user=user,
            actor=user,
            role="Deltaker",
        )
    if CRASH["on"]:
        raise RuntimeError("stopped in the middle of the job")
    return counts


def spec(name, function, trigger):
    return runner.JobSpec(name, f"Testjobb {name}", f"{__name__}:{function}", trigger)


def use_jobs(monkeypatch, *specs):
    monkeypatch.setattr(runner, "JOBS", list(specs))
    monkeypatch.setattr(runner, "JOBS_BY_NAME", {s.name: s for s in specs})


@pytest.fixture(autouse=True)
def _fresh_test_jobs():
    TICKS.clear()
    CRASH["on"] = False
    yield
    CRASH["on"] = False


@pytest.fixture
def engine(app):
    return app.extensions["nettverk.engine"]


@pytest.fixture
def fast_lease(monkeypatch):
    """Renew every 0.1 s; a lease of 3 s, long enough that a busy machine does not lose it by accident."""
    monkeypatch.setattr(runner, "RENEW", 0.1)
    monkeypatch.setattr(runner, "LEASE", timedelta(seconds=3))


@pytest.fixture
def watched(monkeypatch):
    """Name each scheduler's lease holder after its thread, and note when each builds its APScheduler,
    runs a job and shuts down: [(event, thread name, monotonic time)]."""
    log = []
    build = runner.build_scheduler

    def watched_build(engine):
        scheduler = build(engine)
        owner = threading.current_thread().name
        log.append(("built", owner, time.monotonic()))
        scheduler.add_listener(lambda e: log.append(("ran", owner, time.monotonic())), EVENT_JOB_EXECUTED)
        scheduler.add_listener(lambda e: log.append(("shutdown", owner, time.monotonic())), EVENT_SCHEDULER_SHUTDOWN)
        return scheduler

    monkeypatch.setattr(runner, "build_scheduler", watched_build)
    monkeypatch.setattr(runner, "holder_id", lambda: threading.current_thread().name)
    return log


def wait_until(condition, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@contextmanager
def scheduler_thread(app, name):
    """`serve(app, stop)` in a thread, as `nettverk scheduler` runs it; yields the stop event."""
    stop = threading.Event()
    errors = []

    def serve():
        try:
            runner.serve(app, stop)
        except BaseException as error:  # noqa: BLE001 - a scheduler that crashes fails the test
            errors.append(error)
            raise

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), f"scheduler {name} did not stop"
    assert errors == [], f"scheduler {name} crashed: {errors!r}"


def lease_holder(engine):
    with Session(engine) as session:
        lease = session.get(SchedulerLease, runner.LEASE_NAME)
        return (lease.holder, lease.expires_at) if lease else ("", None)


def job_runs(engine, job=None):
    with Session(engine) as session:
        query = select(JobRun).order_by(JobRun.id)
        return list(session.exec(query.where(JobRun.job == job) if job else query))


def events(log, kind, owner=None):
    return [at for event, who, at in list(log) if event == kind and owner in (None, who)]


# The lease ---------------------------------------------------------------------------------------------


def test_a_live_lease_is_not_taken_and_an_expired_one_is(engine):
    start = utcnow()
    assert runner.try_lease(engine, "a", now=start)
    assert not runner.try_lease(engine, "b", now=start + timedelta(seconds=10))
    assert runner.try_lease(engine, "a", now=start + timedelta(seconds=30))  # renewal moves the end
    assert not runner.try_lease(engine, "b", now=start + runner.LEASE + timedelta(seconds=10))
    assert lease_holder(engine) == ("a", start + timedelta(seconds=30) + runner.LEASE)
    # a died: its lease runs out, and b takes over
    later = start + timedelta(seconds=31) + runner.LEASE
    assert runner.try_lease(engine, "b", now=later)
    assert not runner.try_lease(engine, "a", now=later + timedelta(seconds=1))
    assert lease_holder(engine)[0] == "b"


def test_a_released_lease_is_free_at_once(engine):
    assert runner.try_lease(engine, "a")
    runner.release_lease(engine, "b")  # only the holder can give it up
    assert not runner.try_lease(engine, "b")
    runner.release_lease(engine, "a")
    assert lease_holder(engine)[0] == ""
    assert runner.try_lease(engine, "b")


# Two schedulers at once ----------------------------------------------------------------------------------


def test_two_schedulers_run_the_jobs_one_at_a_time(app, engine, monkeypatch, fast_lease, watched):
    use_jobs(monkeypatch, spec("tick", "tick", IntervalTrigger(seconds=1, timezone=OSLO)))
    with scheduler_thread(app, "first") as stop_first:
        wait_until(lambda: events(watched, "built", "first"), what="the first scheduler to start")
        with scheduler_thread(app, "second"):
            second_started = time.monotonic()
            # The second one keeps trying (every 0.1 s) while the first runs job after job.
            wait_until(
                lambda: len([t for t in events(watched, "ran") if t > second_started]) >= 2,
                what="two runs with both schedulers up",
            )
            assert {who for event, who, _ in watched} == {"first"}
            assert lease_holder(engine)[0] == "first"

            stop_first.set()  # the holder stops: the second takes over
            wait_until(lambda: len(events(watched, "ran", "second")) >= 2, what="the second scheduler's runs")
            assert lease_holder(engine)[0] == "second"
            [first_down] = events(watched, "shutdown", "first")
            [second_up] = events(watched, "built", "second")
            assert second_up > first_down
            assert all(t < first_down for t in events(watched, "ran", "first"))
    assert lease_holder(engine)[0] == ""  # released on stop
    runs = job_runs(engine, "tick")
    assert len(runs) == len(TICKS) == len(events(watched, "ran"))
    assert {run.status for run in runs} == {"ok"}


def test_the_second_scheduler_takes_over_when_the_first_dies(app, engine, monkeypatch, fast_lease, watched):
    """A holder that dies does not release its lease: the other waits until the lease has run out."""
    monkeypatch.setattr(runner, "LEASE", timedelta(seconds=1.5))
    release = runner.release_lease
    monkeypatch.setattr(
        runner, "release_lease", lambda engine, holder: None if holder == "first" else release(engine, holder)
    )
    use_jobs(monkeypatch, spec("tick", "tick", IntervalTrigger(seconds=1, timezone=OSLO)))
    with scheduler_thread(app, "first") as stop_first:
        wait_until(lambda: events(watched, "ran", "first"), what="the first scheduler's first run")
        with scheduler_thread(app, "second"):
            stop_first.set()
            wait_until(lambda: events(watched, "shutdown", "first"), what="the first scheduler to die")
            _, expires = lease_holder(engine)
            wait_until(lambda: events(watched, "ran", "second"), what="the second scheduler's first run")
            [second_up] = events(watched, "built", "second")
            assert second_up > events(watched, "shutdown", "first")[0]
            assert utcnow() >= expires  # not before the dead holder's lease had run out
            assert lease_holder(engine)[0] == "second"


# Missed runs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "down"),
    [(timedelta(minutes=10), timedelta(minutes=35)), (timedelta(days=7), timedelta(days=3))],
    ids=["several missed runs", "one run missed by days"],
)
def test_runs_missed_while_down_are_made_up_once(app, engine, monkeypatch, fast_lease, period, down):
    use_jobs(monkeypatch, spec("tick", "tick", IntervalTrigger(seconds=period.total_seconds(), timezone=OSLO)))
    runner.build_scheduler(engine).shutdown()  # stores the job, as a first start does; nothing is due yet
    # The scheduler was down: many periods passed without a run. The job store keeps the next run time
    # twice, in its column and in the pickled job; both are moved back.
    missed = utcnow() - down
    with engine.begin() as connection:
        state = pickle.loads(connection.execute(select(apscheduler_jobs.c.job_state)).scalar_one())  # noqa: S301
        assert state["next_run_time"] > utcnow()
        state["next_run_time"] = missed
        connection.execute(
            update(apscheduler_jobs)
            .where(apscheduler_jobs.c.id == "tick")
            .values(next_run_time=missed.timestamp(), job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        )
    with scheduler_thread(app, "restarted"):
        wait_until(lambda: TICKS, what="the missed run")
    assert len(TICKS) == 1
    assert len(job_runs(engine, "tick")) == 1
    with engine.connect() as connection:
        next_run = connection.execute(select(apscheduler_jobs.c.next_run_time)).scalar_one()
    assert utcnow().timestamp() < next_run <= (utcnow() + period).timestamp()


# A job that fails halfway ---------------------------------------------------------------------------------


def test_a_job_stopped_halfway_leaves_nothing_and_the_rerun_sends_each_notice_once(app, engine, db, monkeypatch):
    use_jobs(monkeypatch, spec("test_notices", "notices_then_crash", IntervalTrigger(hours=1, timezone=OSLO)))
    CRASH["on"] = True
    run = runner.run_job("test_notices", app=app)
    assert (run.status, run.message, run.sent) == ("failed", "RuntimeError", 0)
    assert run.finished_at is not None
    assert outbox(db) == []
    assert db.exec(select(func.count()).select_from(Notification)).one() == 0

    CRASH["on"] = False
    run = runner.run_job("test_notices", app=app)
    assert (run.status, run.sent, run.skipped, run.failed) == ("ok", 3, 0, 0)
    run = runner.run_job("test_notices", app=app)
    assert (run.status, run.sent, run.skipped) == ("ok", 0, 3)
    mail = outbox(db)
    assert sorted(m.to_address for m in mail) == sorted(RECIPIENTS)
    # A notice's footer links to the notice settings, where its kind can be turned off.
    assert all("http://nettverk.test/konto/varsler" in m.body_html for m in mail)
    assert [r.status for r in job_runs(engine, "test_notices")] == ["failed", "ok", "ok"]


def test_other_mail_has_no_notice_settings_link(app, db):
    with app.app_context():
        user = get_session().exec(select(User).where(User.email == USERS["participant"])).one()
        queue_mail(get_session(), user.email, "Rolle", "role_granted", user=user, actor=user, role="Deltaker")
        get_session().commit()
    assert "/konto/varsler" not in outbox(db)[0].body_html


# SMTP down -----------------------------------------------------------------------------------------------


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp_app(app, database_url, smtp_port):
    """The app as the scheduler process would run it with NETTVERK_SMTP_* set (nothing listens yet)."""
    mail_app = create_app(
        {"TESTING": True},
        env={
            "NETTVERK_ENV": "test",
            "NETTVERK_DATABASE_URL": database_url,
            "NETTVERK_BASE_URL": "http://nettverk.test",
            "NETTVERK_SMTP_HOST": "127.0.0.1",
            "NETTVERK_SMTP_PORT": str(smtp_port),
            "NETTVERK_SMTP_STARTTLS": "false",
            "NETTVERK_SMTP_TIMEOUT": "5",
        },
    )
    yield mail_app
    mail_app.extensions["nettverk.engine"].dispose()


def test_mail_waits_while_smtp_is_down_and_goes_once_when_it_is_back(smtp_app, smtp_port, engine, db):
    with smtp_app.app_context():
        session = get_session()
        for email in RECIPIENTS[:2]:
            user = session.exec(select(User).where(User.email == email)).one()
            queue_mail(session, email, "Ny rolle", "role_granted", user=user, actor=user, role="Deltaker")
        session.commit()

    run = runner.run_job("deliver_mail", app=smtp_app)
    assert (run.status, run.sent, run.failed) == ("ok", 0, 2)
    mail = outbox(db)
    assert {m.status for m in mail} == {MailStatus.FAILED}
    assert all(m.last_error.startswith("Kunne ikke koble til e-posttjeneren") for m in mail)
    assert all(m.next_attempt_at > utcnow() for m in mail)

    server = SMTPServer(smtp_port)
    server.start()
    try:
        run = runner.run_job("deliver_mail", app=smtp_app)  # the retry time has not come
        assert (run.sent, run.failed) == (0, 0)
        assert server.messages == []

        with engine.begin() as connection:  # an hour later
            connection.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        run = runner.run_job("deliver_mail", app=smtp_app)
        assert (run.status, run.sent, run.failed) == ("ok", 2, 0)
        received = server.wait_for(2)
        assert sorted(m["To"] for m in received) == sorted(RECIPIENTS[:2])

        run = runner.run_job("deliver_mail", app=smtp_app)
        assert (run.sent, run.failed) == (0, 0)
        assert len(server.messages) == 2
    finally:
        server.stop()
    assert {m.status for m in outbox(db)} == {MailStatus.SENT}
    # deliver_mail runs every few seconds: only the runs that sent or failed something are recorded.
    assert [(r.sent, r.failed) for r in job_runs(engine, "deliver_mail")] == [(0, 2), (2, 0)]


def test_the_running_scheduler_sends_what_a_request_queued(smtp_app, smtp_port, monkeypatch, fast_lease):
    """Requests only queue; the scheduler's deliver_mail job (every 5 s) is what sends."""
    use_jobs(monkeypatch, runner.JOBS_BY_NAME["deliver_mail"])
    server = SMTPServer(smtp_port)
    server.start()
    try:
        with scheduler_thread(smtp_app, "sender"):
            response = Browser(smtp_app.test_client()).post("/glemt-passord", {"email": USERS["participant"]})
            assert response.status_code == 302
            [received] = server.wait_for(1)
        assert received["To"] == USERS["participant"]
    finally:
        server.stop()


# The operator's page -----------------------------------------------------------------------------------


def test_schedules_in_words():
    assert schedule_in_words(IntervalTrigger(minutes=1, timezone=OSLO)) == "hvert minutt"
    assert schedule_in_words(IntervalTrigger(minutes=15, timezone=OSLO)) == "hvert 15. minutt"
    assert schedule_in_words(CronTrigger(minute=5, timezone=OSLO)) == "hver time, 5 minutter over hel time"
    assert schedule_in_words(CronTrigger(hour=6, minute=30, timezone=OSLO)) == "hver dag kl. 06.30"
    assert (
        schedule_in_words(CronTrigger(day_of_week="mon-fri", hour=8, minute=0, timezone=OSLO))
        == "mandag–fredag kl. 08.00"
    )
    assert schedule_in_words(CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=OSLO)) == "hver mandag kl. 07.00"
    assert schedule_in_words(CronTrigger(day=1, hour=7, minute=0, timezone=OSLO)) == "den 1. hver måned kl. 07.00"
    for job in runner.JOBS:  # every real schedule has words
        assert not schedule_in_words(job.trigger).startswith(("cron[", "interval[")), job.name


def test_the_admin_page_lists_every_job_with_its_next_and_last_run(app, engine, as_role):
    admin = as_role("admin")
    assert "/admin/jobber" in admin.get("/admin").get_data(as_text=True)
    page = admin.get("/admin/jobber").get_data(as_text=True)
    for job in runner.JOBS:
        assert job.label in page and schedule_in_words(job.trigger) in page
    assert page.count("ikke planlagt ennå – start <code>nettverk scheduler</code>") == len(runner.JOBS)
    assert "Ingen planlegger kjører nå" in page

    runner.build_scheduler(engine).shutdown()  # a scheduler has stored the jobs and their next runs
    assert runner.try_lease(engine, "drift01:4242:ab12cd34")
    runner.run_job("retention", app=app)
    page = admin.get("/admin/jobber").get_data(as_text=True)
    assert "ikke planlagt ennå" not in page
    with engine.connect() as connection:
        rows = connection.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time))
        stored = {job: at for job, at in rows}
    for job in runner.JOBS:
        assert format_datetime(datetime.fromtimestamp(stored[job.name], UTC)) in page
    assert "drift01:4242:ab12cd34" in page and "Ingen planlegger kjører nå" not in page
    row = re.search(r'<tr id="jobb-retention">.*?</tr>', page, re.S).group(0)
    assert "Fullført" in row and "0 sendt eller utført" in row
    assert "De siste kjøringene" in page


def test_run_now_runs_the_job_and_records_it(app, engine, db, as_role, monkeypatch):
    use_jobs(monkeypatch, *runner.JOBS, spec("test_notices", "notices_then_crash", IntervalTrigger(hours=1)))
    admin = as_role("admin")
    response = admin.post("/admin/jobber/kjor", {"jobb": "test_notices"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/jobber#jobb-test_notices")
    page = admin.get("/admin/jobber").get_data(as_text=True)
    assert "«Testjobb test_notices» er kjørt: 3 sendt eller utført, 0 hoppet over, 0 feilet." in page
    [run] = job_runs(engine, "test_notices")
    assert (run.status, run.sent) == ("ok", 3)
    assert len(outbox(db)) == 3

    CRASH["on"] = True
    admin.post("/admin/jobber/kjor", {"jobb": "test_notices"})
    page = admin.get("/admin/jobber").get_data(as_text=True)
    assert "«Testjobb test_notices» feilet (RuntimeError)" in page
    assert [r.status for r in job_runs(engine, "test_notices")] == ["ok", "failed"]

    assert admin.post("/admin/jobber/kjor", {"jobb": "no_such_job"}).status_code == 400


def test_the_mail_sender_is_never_run_inside_a_request(app, engine, db, as_role, monkeypatch):
    """The sender talks to SMTP; a request never waits for it (issue 17, point 4), so «Kjør nå» is not offered."""
    monkeypatch.setattr("nettverk.mail.operations.deliver", lambda *a, **k: pytest.fail("sent in a request"))
    admin = as_role("admin")
    page = admin.get("/admin/jobber").get_data(as_text=True)
    assert 'value="deliver_mail"' not in page
    assert "Kjører av seg selv hvert 5. sekund" in page
    assert admin.post("/admin/jobber/kjor", {"jobb": "deliver_mail"}).status_code == 400
    assert job_runs(engine, "deliver_mail") == []


@pytest.mark.parametrize("role", ["coordinator", "participant", None])
def test_only_the_admin_sees_and_runs_the_jobs(app, engine, as_role, role):
    browser = as_role(role)
    refused = 403 if role else 302
    assert browser.get("/admin/jobber").status_code == refused
    assert browser.post("/admin/jobber/kjor", {"jobb": "retention"}).status_code == refused
    assert job_runs(engine) == []


# Notice settings -----------------------------------------------------------------------------------------


def checked_kinds(page: str) -> set[str]:
    boxes = re.findall(r'<input[^>]*name="kinds"[^>]*>', page)
    assert len(boxes) == len(KINDS)
    return {re.search(r'value="([^"]+)"', box).group(1) for box in boxes if "checked" in box}


def notify(app, email, kind):
    with app.app_context():
        session = get_session()
        user = session.exec(select(User).where(User.email == email)).one()
        counts = Counts()
        sent = notify_once(
            session,
            counts,
            job="test",
            key=f"test:{kind}:{utcnow().timestamp()}",
            email=email,
            user_id=user.id,
            kind=kind,
            subject="Test",
            template="role_granted",
            user=user,
            actor=user,
            role="Deltaker",
        )
        session.rollback()
        return sent, counts


def test_notice_settings_are_saved_and_a_kind_turned_off_is_not_sent(app, db, as_role):
    browser = as_role("participant")
    assert "/konto/varsler" in browser.get("/min-konto").get_data(as_text=True)
    page = browser.get("/konto/varsler").get_data(as_text=True)
    assert all(label in page for label in KINDS.values())
    assert checked_kinds(page) == set(KINDS)  # everything is on until turned off

    response = browser.post("/konto/varsler", {"kinds": sorted(set(KINDS) - {"digest", "coverage"})})
    assert response.status_code == 302
    assert checked_kinds(browser.get("/konto/varsler").get_data(as_text=True)) == set(KINDS) - {"digest", "coverage"}
    user = db.exec(select(User).where(User.email == USERS["participant"])).one()
    db.expire_all()
    assert {
        (s.kind, s.enabled) for s in db.exec(select(NotificationSetting).where(NotificationSetting.user_id == user.id))
    } == {("digest", False), ("coverage", False)}

    sent, counts = notify(app, USERS["participant"], "digest")
    assert not sent and counts.skipped == 1
    assert notify(app, USERS["participant"], "reminder")[0]
    assert notify(app, USERS["coordinator"], "digest")[0]  # someone else's choice

    browser.post("/konto/varsler", {"kinds": sorted(KINDS)})
    assert checked_kinds(browser.get("/konto/varsler").get_data(as_text=True)) == set(KINDS)
    assert notify(app, USERS["participant"], "digest")[0]

    browser.post("/konto/varsler", {})  # nothing ticked: everything off
    assert checked_kinds(browser.get("/konto/varsler").get_data(as_text=True)) == set()
    assert not notify(app, USERS["participant"], "reminder")[0]


def test_notice_settings_need_a_login(browser):
    response = browser.get("/konto/varsler")
    assert response.status_code == 302 and "/logg-inn" in response.headers["Location"]


def test_a_dead_scheduler_is_replaced_within_the_promised_minute(engine):
    """The README promises takeover within runner.TAKEOVER: the lease plus one waiting interval must fit in it,
    whatever the phase of the waiting scheduler's tries (the lease times are given, nothing waits)."""
    renew = timedelta(seconds=runner.RENEW)
    assert runner.LEASE + renew <= runner.TAKEOVER
    assert runner.LEASE >= 4 * renew  # a live holder keeps its lease through three missed renewals
    died = utcnow()
    for phase in (0, 0.25, 0.5, 0.99):
        runner.release_lease(engine, "a")
        runner.release_lease(engine, "b")
        assert runner.try_lease(engine, "a", now=died)  # a's last renewal, then a dies
        tries = (died + renew * (phase + n) for n in range(100))
        taken = next(moment for moment in tries if runner.try_lease(engine, "b", now=moment))
        assert taken - died <= runner.TAKEOVER
