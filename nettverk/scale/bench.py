"""The benchmark: `make bench`, `nettverk bench` or `python -m nettverk.scale.bench`.

1. In process, on SQLite: builds the national dataset once (cached under instance/bench/, keyed by seed,
   generator version and anchor month) and measures each key page and API call with Flask's test client,
   logged in as the user who would open it: median and p95 latency, and the number of SQL statements
   (a before_cursor_execute listener). Feeds are measured cold (this worker's rendered-feed cache emptied
   before each request) and with a matching ETag (304), in a worker that has not seen the feed polled and
   in one that has. A feed of 1,000 events is rendered cold too. The loaded objects are frozen for the
   garbage collector first, as nettverk/gunicorn_conf.py does in each worker.
2. Under gunicorn (several workers, nettverk/gunicorn_conf.py) on PostgreSQL (database nettverk_bench, loaded
   with the same dataset): requests per second of feed polls with If-None-Match from many simulated
   subscribers (a first round in which each worker meets each feed, then steady, then with a registration
   or an event changing every second), and of a static file from the same server in the same run (the
   ceiling); the peak RSS of a worker.

Prints one table and writes the results as JSON to instance/bench/<timestamp>.json.
"""

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, delete, func, text
from sqlalchemy import event as sa_event
from sqlmodel import select

from nettverk import create_app
from nettverk.accounts.models import RoleAssignment, User
from nettverk.calendars import cache, queries, render
from nettverk.calendars.models import CalendarToken, RenderedEvent
from nettverk.calendars.queries import in_window
from nettverk.cli import upgrade_database
from nettverk.db import get_session
from nettverk.events.models import Event, EventKind, EventStatus, Registration, RegistrationStatus
from nettverk.gunicorn_conf import freeze_loaded_objects
from nettverk.networks.models import Network, NetworkKind
from nettverk.referrals.models import Referral
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Service
from nettverk.scale.national import GENERATOR_VERSION, PASSWORD, default_anchor, generate, personal_token
from nettverk.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent.parent
CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The dataset --------------------------------------------------------------------------------------


def dataset_key(scale: str, seed: int) -> str:
    return f"{scale}-seed{seed}-v{GENERATOR_VERSION}-{default_anchor():%Y%m}"


def make_app(database_url: str, **config):
    env = {
        "NETTVERK_ENV": "development",
        "NETTVERK_DATABASE_URL": database_url,
        "NETTVERK_BASE_URL": "http://nettverk.bench",
        "NETTVERK_INSTANCE_PATH": str(ROOT / "instance"),
    }
    return create_app(config, env=env)


def build(database_url: str, scale: str, seed: int) -> None:
    upgrade_database(database_url)
    app = make_app(database_url)
    with app.app_context():
        generate(get_session(), scale, seed, progress=log)
    app.extensions["nettverk.engine"].dispose()


def sqlite_dataset(scale: str, seed: int, folder: Path) -> str:
    """The cached SQLite file of this dataset, made when missing; brought up to the newest schema."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset_key(scale, seed)}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        log(f"Lager datasettet {path.name} (første gang; senere kjøringer bruker filen) …")
        partial = path.with_suffix(".partial.db")
        for leftover in folder.glob(partial.name + "*"):
            leftover.unlink()
        build(f"sqlite:///{partial}", scale, seed)
        shutil.move(partial, path)
    upgrade_database(url)
    return url


def postgres_dataset(scale: str, seed: int, name: str = "nettverk_bench") -> str:
    """The database `name` loaded with the same dataset; the key is kept as the database's comment, so a
    rerun with the same key reuses it."""

    key = dataset_key(scale, seed)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        comment = connection.execute(
            text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
    if comment != key:
        log(f"Laster datasettet {key} inn i PostgreSQL-databasen {name} …")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        build(url, scale, seed)
        with admin.connect() as connection:
            connection.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{key}'"))
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    else:
        upgrade_database(url)
    admin.dispose()
    return url


# Who opens what -----------------------------------------------------------------------------------


def targets(app, seed: int) -> dict:
    """The objects the pages are measured on, found in the data: the fagdag with 200 registrations and
    its base, that base's coordinator, BTI network and first member municipality, and the barneverntjeneste
    that sent the most referrals with its leader; the BTI network with the most meetings; the personal feed of
    the subscriber registered for most of the events a feed shows."""
    with app.app_context():
        s = get_session()
        by_event = (
            select(Registration.event_id)
            .join(Event, Event.id == Registration.event_id)
            .where(Event.kind == EventKind.FAGDAG, Event.base_id.is_not(None), Event.status == EventStatus.HELD)
            .group_by(Registration.event_id)
        )
        # The one with 200 registrations (national scale), else the one with the most (small datasets). A held
        # one, so its page shows the same sections (its materials) whatever month the data was made in.
        event_id = (
            s.exec(by_event.having(func.count() == 200).order_by(Registration.event_id)).first()
            or s.exec(by_event.order_by(func.count().desc(), Registration.event_id)).first()
        )
        event = s.get(Event, event_id)
        base = s.get(CompetenceBase, event.base_id)
        coordinator = s.exec(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                RoleAssignment.role == "coordinator",
                RoleAssignment.base_id == base.id,
                User.email.like("%@scale.example"),
            )
        ).first()
        network = s.exec(
            select(Network)
            .join(Event, Event.network_id == Network.id)
            .where(Network.kind == NetworkKind.BTI)
            .group_by(Network.id)
            .order_by(func.count().desc(), Network.id)
        ).first()
        municipality = s.exec(
            select(Municipality)
            .join(BaseMembership, BaseMembership.municipality_id == Municipality.id)
            .where(BaseMembership.base_id == base.id)
            .order_by(Municipality.id)
        ).first()
        service_id = s.exec(
            select(Referral.sending_service_id)
            .group_by(Referral.sending_service_id)
            .order_by(func.count().desc(), Referral.sending_service_id)
        ).first()
        service = s.get(Service, service_id)
        leader = s.exec(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == "service_leader", RoleAssignment.service_id == service_id)
        ).first()
        referrals = s.exec(
            select(func.count()).select_from(Referral).where(Referral.sending_service_id == service_id)
        ).one()
        # The personal feed: of the people the generator gave a calendar key, the one registered for most events
        # the feed shows (the last year and ahead), so it is never empty, whatever month the data was made in.
        subscriber_id = s.exec(
            select(Registration.user_id)
            .join(Event, Event.id == Registration.event_id)
            .join(CalendarToken, CalendarToken.user_id == Registration.user_id)
            .where(
                Registration.status == RegistrationStatus.CONFIRMED,
                Event.status != EventStatus.DRAFT,
                in_window(utcnow()),
                CalendarToken.revoked_at.is_(None),
            )
            .group_by(Registration.user_id)
            .order_by(func.count().desc(), Registration.user_id)
        ).first()
        return {
            "event_id": event.id,
            "base": base.slug,
            "coordinator": coordinator.email,
            "network": network.slug,
            "municipality": municipality.number,
            "service": service.slug,
            "service_referrals": referrals,
            "leader": leader.email,
            "token": personal_token(seed, subscriber_id or coordinator.id),
        }


def pages(t: dict) -> list[tuple[str, str | None, str, dict]]:
    """(name, user e-mail or None, url, headers) of every page and call in the table."""
    return [
        ("Regionkalender, måned", None, "/kalender", {}),
        ("Regionkalender, liste", None, "/kalender?visning=liste", {}),
        ("Kompetansebase", None, f"/kompetansebaser/{t['base']}", {}),
        ("Arrangement med 200 påmeldte (koordinator)", t["coordinator"], f"/arrangementer/{t['event_id']}", {}),
        ("Deltakerliste, 200 påmeldte", t["coordinator"], f"/arrangementer/{t['event_id']}/deltakere", {}),
        ("Dekning (BTI)", t["coordinator"], f"/kompetansebaser/{t['base']}/dekning", {}),
        ("Tiltakskatalog", t["leader"], "/tiltak", {}),
        ("Tjenestens henvendelser", t["leader"], "/henvendelser", {}),
        (
            "Henvendelsesstatistikk for basen",
            t["coordinator"],
            f"/kompetansebaser/{t['base']}/henvendelsesstatistikk",
            {},
        ),
        ("Kompetansematrise for basen (koordinator)", t["coordinator"], f"/kompetansebaser/{t['base']}/kompetanse", {}),
        ("Materiell i basen (koordinator)", t["coordinator"], f"/kompetansebaser/{t['base']}/materiell", {}),
        ("API: arrangementer", None, "/api/v1/events", {}),
        ("API: henvendelser", t["leader"], "/api/v1/referrals", {}),
        ("API: kompetansematrise", t["coordinator"], f"/api/v1/bases/{t['base']}/competence-matrix", {}),
    ]


FEEDS = {
    "base": lambda t: f"/kalender/kompetansebaser/{t['base']}.ics",
    "network": lambda t: f"/kalender/nettverk/{t['network']}.ics",
    "municipality": lambda t: f"/kalender/kommuner/{t['municipality']}.ics",
    "personal": lambda t: f"/kalender/personlig/{t['token']}.ics",
}
FEED_NAMES = {"base": "kompetansebase", "network": "nettverk", "municipality": "kommune", "personal": "personlig"}


# In-process measurement ---------------------------------------------------------------------------


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        sa_event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args, **_kwargs):
        self.count += 1


def login(client, email: str, password: str) -> None:
    page = client.get("/logg-inn").get_data(as_text=True)
    token = CSRF_FIELD.search(page).group(1)
    response = client.post("/logg-inn", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"kunne ikke logge inn som {email}: {response.status_code}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def measure(
    app,
    counter: StatementCounter,
    client,
    url: str,
    headers: dict,
    runs: int,
    before=None,
    expect: tuple[int, ...] = (200,),
) -> dict:
    """Median and p95 of `runs` requests, and the most SQL statements one of them issued."""
    times, statements, size, status = [], 0, 0, None
    for n in range(runs + 2):  # two warm-up requests first (templates compiled, caches of the code filled)
        if before:
            before()
        counter.count = 0
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        body = response.get_data()
        elapsed = time.perf_counter() - start
        status, size = response.status_code, len(body)
        if status not in expect:
            raise RuntimeError(f"{url}: svarte {status}")
        if n >= 2:
            times.append(elapsed * 1000)
            statements = max(statements, counter.count)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "statements": statements,
        "status": status,
        "bytes": size,
        "runs": runs,
    }


def feed_of_many(app, counter: StatementCounter, count: int, runs: int, first_render: bool = False) -> dict:
    """A feed of `count` events rendered cold, as the feed view does when this worker has not rendered it:
    fingerprint, entries, the stored VEVENTs (rendered and stored for the events that have none), render.
    With `first_render`, the stored VEVENTs of these events are deleted before each run: the very first
    render after every event changed."""

    with app.app_context():
        session = get_session()
        ids = list(
            session.exec(
                select(Event.id)
                .where(Event.status != EventStatus.DRAFT, queries.in_window(queries.utcnow()))
                .order_by(Event.starts_at.desc())
                .limit(count)
            )
        )
    scope = queries.Scope("bench", "Benchmark", "", Event.id.in_(ids))
    mail_from = app.config["MAIL_FROM"]
    times, statements, size = [], 0, 0
    for n in range(runs + 2):
        if first_render:
            with app.app_context():
                get_session().exec(delete(RenderedEvent).where(RenderedEvent.event_id.in_(ids)))
                get_session().commit()
        with app.app_context():
            session = get_session()
            counter.count = 0
            start = time.perf_counter()
            queries.fingerprint(session, scope)
            event_ids, entries = queries.feed_entries(session, scope)
            components = queries.components(session, entries, event_ids, mail_from=mail_from, alarm_minutes=None)
            body = render.feed(
                entries,
                name=scope.name,
                url="http://nettverk.bench/x.ics",
                about="",
                mail_from=mail_from,
                components=components,
            )
            elapsed = time.perf_counter() - start
        if n >= 2:
            times.append(elapsed * 1000)
            statements, size = counter.count, len(body)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "statements": statements,
        "status": 200,
        "bytes": size,
        "runs": runs,
        "events": len(ids),
    }


def feed_rows(app, counter: StatementCounter, client, kind: str, url: str, runs: int) -> list[dict]:
    """A feed cold (this worker has not rendered it), and polled with its ETag (304) by a worker that has not
    seen it polled (the data version and the feed's identity in one statement, the fingerprint another worker
    kept in another) and by one that has (from memory while the version it read is younger than
    FEED_VERSION_MS)."""

    def cold():
        app.extensions[cache.RENDERED_KEY] = cache.LRU()

    etag = client.get(url).headers["ETag"]
    known = {"If-None-Match": etag}
    return [
        {
            "name": f"Feed {FEED_NAMES[kind]}, kald",
            "url": url,
            **measure(app, counter, client, url, {}, runs, before=cold),
        },
        {
            "name": f"Feed {FEED_NAMES[kind]}, samme ETag (304), ny arbeider",
            "url": url,
            **measure(app, counter, client, url, known, runs, before=lambda: cache.forget(app), expect=(304,)),
        },
        {
            "name": f"Feed {FEED_NAMES[kind]}, samme ETag (304), kjent",
            "url": url,
            **measure(app, counter, client, url, known, runs, expect=(304,)),
        },
    ]


def in_process(database_url: str, seed: int, runs: int) -> tuple[dict, list[dict]]:
    app = make_app(database_url)
    engine = app.extensions["nettverk.engine"]
    counter = StatementCounter(engine)
    t = targets(app, seed)
    freeze_loaded_objects()  # as gunicorn_conf does in each worker once the app is loaded
    clients = {}

    def client_of(email):
        if email not in clients:
            clients[email] = app.test_client()
            if email:
                login(clients[email], email, PASSWORD)
        return clients[email]

    rows = []
    for name, email, url, headers in pages(t):
        rows.append({"name": name, "url": url, **measure(app, counter, client_of(email), url, headers, runs)})
        log(f"  {name}: {rows[-1]}")

    for kind, url_of in FEEDS.items():
        rows += feed_rows(app, counter, client_of(None), kind, url_of(t), runs)
        log("\n".join(f"  {row}" for row in rows[-3:]))
    log("  feed med 1 000 arrangementer …")
    rows.append(
        {"name": "Feed med 1 000 arrangementer, kald (uten HTTP)", "url": "-", **feed_of_many(app, counter, 1000, runs)}
    )
    log(f"  {rows[-1]}")
    # Every VEVENT rendered anew (none stored): what the first poll after a change of all 1,000 costs.
    rows.append(
        {
            "name": "Feed med 1 000 arrangementer, første gjengivelse",
            "url": "-",
            **feed_of_many(app, counter, 1000, min(runs, 3), first_render=True),
        }
    )
    log(f"  {rows[-1]}")
    engine.dispose()
    return t, rows


# Under gunicorn on PostgreSQL ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, workers: int):
    port = free_port()
    env = {
        **os.environ,
        "NETTVERK_ENV": "production",
        "NETTVERK_DATABASE_URL": database_url,
        "NETTVERK_SECRET_KEY": secrets.token_urlsafe(48),
        "NETTVERK_BASE_URL": "http://nettverk.bench",
    }
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:nettverk.gunicorn_conf",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "nettverk:create_app()",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/static/nettverk.css")
                connection.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn startet ikke") from None
                time.sleep(0.3)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def worker_peak_rss_kb(master_pid: int) -> list[int]:
    """VmHWM (peak resident set) of each worker process of the gunicorn master."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", status, re.M):
            found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if found:
                peaks.append(int(found.group(1)))
    return peaks


def load(port: int, requests: list[tuple[str, dict]], expect: int, threads: int, seconds: float, limit: int) -> dict:
    """Bounded load from `threads` clients on loopback, each with a keep-alive connection (reopened when
    the server closes it), cycling through `requests`, for at most `seconds` and `limit` requests."""
    done, wrong, stop = [0] * threads, [0] * threads, time.monotonic() + seconds

    def client(index: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        position = index
        while time.monotonic() < stop and done[index] < limit // threads:
            path, headers = requests[position % len(requests)]
            position += threads
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != expect:
                    wrong[index] += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                wrong[index] += 1
                continue
            done[index] += 1
        connection.close()

    start = time.monotonic()
    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - start
    return {
        "requests": sum(done),
        "unexpected": sum(wrong),
        "seconds": round(elapsed, 2),
        "rps": round(sum(done) / elapsed, 1),
    }


@contextmanager
def changes_elsewhere(database_url: str, table: str, every: float = 1.0):
    """While inside: a change every `every` seconds that no polled feed shows (a row of `table` written
    unchanged), as registrations and edits elsewhere in the country move the data version: every worker then
    checks again, on its next poll, each feed that depends on that table (a registration: the personal feeds;
    an event: all)."""
    engine = create_engine(database_url)
    stop = threading.Event()

    def change():
        while not stop.wait(every):
            with engine.begin() as connection:
                connection.execute(text(f"UPDATE {table} SET id = id WHERE id = (SELECT min(id) FROM {table})"))  # noqa: S608

    thread = threading.Thread(target=change)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def under_gunicorn(database_url: str, seed: int, workers: int, threads: int, seconds: float) -> dict:
    """Feed polls with If-None-Match from many subscribers (every base, network and municipality feed
    and personal feeds) against a static file, same server, same run."""
    app = make_app(database_url)
    with app.app_context():
        s = get_session()
        paths = [f"/kalender/kompetansebaser/{slug}.ics" for slug in s.exec(select(CompetenceBase.slug))]
        paths += [f"/kalender/nettverk/{slug}.ics" for slug in s.exec(select(Network.slug))]
        paths += [
            f"/kalender/kommuner/{n}.ics"
            for n in s.exec(select(Municipality.number).where(Municipality.valid_to.is_(None)))
        ]
        hashes = set(s.exec(select(CalendarToken.token_hash)))
        coordinators = s.exec(select(RoleAssignment.user_id).where(RoleAssignment.role == "coordinator")).all()
        users = set(coordinators) | set(s.exec(select(CalendarToken.user_id).where(CalendarToken.user_id.is_not(None))))
        for user_id in sorted(users):
            token = personal_token(seed, user_id)
            if hashlib.sha256(token.encode()).hexdigest() in hashes:
                paths.append(f"/kalender/personlig/{token}.ics")
    app.extensions["nettverk.engine"].dispose()

    with gunicorn(database_url, workers) as (port, master):
        # Every subscriber fetches its feed once (rendering it in the worker that answers), then polls.
        subscriptions = []
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                subscriptions.append((path, {"If-None-Match": response.getheader("ETag")}))
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        connection.close()
        limit = 200_000
        # First round: each worker meets each feed's first poll (one statement and the fingerprint kept in the
        # database), as after every change of the data; every subscriber polls twice per worker.
        learning = load(port, subscriptions, 304, threads, 6 * seconds, 2 * workers * len(subscriptions))
        static = load(port, [("/static/nettverk.css", {})], 200, threads, seconds, limit)
        feeds = load(port, subscriptions, 304, threads, seconds, limit)
        changing = {}
        for table in ("registration", "event"):
            with changes_elsewhere(database_url, table):
                changing[table] = load(port, subscriptions, 304, threads, seconds, limit)
        static_again = load(port, [("/static/nettverk.css", {})], 200, threads, seconds, limit)
        peaks = worker_peak_rss_kb(master)
    ceiling = max(static["rps"], static_again["rps"])
    return {
        "workers": workers,
        "client_threads": threads,
        "subscribers": len(subscriptions),
        "static": static,
        "static_again": static_again,
        "feed_304_first_round": learning,
        "feed_304": feeds,
        "feed_304_changing": changing,
        "ratio": round(feeds["rps"] / ceiling, 3) if ceiling else None,
        "worker_peak_rss_mb": round(max(peaks) / 1024, 1) if peaks else None,
    }


# Output -------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, AttributeError):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": platform.platform(),
        "load_average": [round(v, 1) for v in os.getloadavg()],
    }  # other work on the machine skews the numbers


def table(rows: list[dict], served: dict | None) -> str:
    width = max((len(r["name"]) for r in rows), default=40)
    lines = [f"{'Side / kall':<{width}}  {'median ms':>9}  {'p95 ms':>8}  {'SQL':>4}  {'mål':>6}", "-" * (width + 38)]
    for r in rows:
        goal = 200 if r["name"].startswith("Feed med 1 000") else 100
        mark = "–" if "første gjengivelse" in r["name"] else "ok" if r["p95_ms"] < goal else "BOM"  # no target
        lines.append(
            f"{r['name']:<{width}}  {r['median_ms']:>9.1f}  {r['p95_ms']:>8.1f}  {r['statements']:>4}  {mark:>6}"
        )
    if served:
        lines += [
            "",
            f"gunicorn, {served['workers']} arbeidere, PostgreSQL, {served['client_threads']} klienttråder, "
            f"{served['subscribers']} abonnenter:",
            f"  statisk fil:             {served['static']['rps']:>8.0f} forespørsler/s "
            f"(igjen etterpå: {served['static_again']['rps']:.0f})",
            f"  feed-poll med ETag, 304: {served['feed_304']['rps']:>8.0f} forespørsler/s "
            f"({served['ratio'] * 100:.0f} % av den statiske filen; mål ≥ 50 %)",
            f"    første runde (hver arbeider møter hver feed): {served['feed_304_first_round']['rps']:.0f} "
            "forespørsler/s",
            f"    med en ny påmelding hvert sekund: {served['feed_304_changing']['registration']['rps']:.0f} "
            "forespørsler/s",
            f"    med en endret samling hvert sekund: {served['feed_304_changing']['event']['rps']:.0f} forespørsler/s",
            f"  høyeste minnebruk (RSS) i en arbeider: {served['worker_peak_rss_mb']} MB",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nettverk bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="national", choices=["tiny", "small", "national"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30, help="målinger per side (etter to oppvarminger)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn-arbeidere")
    parser.add_argument("--threads", type=int, default=16, help="samtidige klienter i lasttesten")
    parser.add_argument("--seconds", type=float, default=10.0, help="sekunder per lastmåling")
    parser.add_argument("--no-gunicorn", action="store_true", help="hopp over målingen med gunicorn og PostgreSQL")
    parser.add_argument("--only-gunicorn", action="store_true", help="bare målingen med gunicorn og PostgreSQL")
    args = parser.parse_args(argv)
    folder = ROOT / "instance" / "bench"
    cached = sqlite_dataset(args.scale, args.seed, folder)
    # Measured on a copy: the pages write (audit rows, logins), and the cached file stays as generated.
    work = folder / "work.db"
    for leftover in folder.glob("work.db*"):
        leftover.unlink()
    shutil.copyfile(cached.removeprefix("sqlite:///"), work)
    url = f"sqlite:///{work}"
    found, rows = {}, []
    if not args.only_gunicorn:
        log("Måler i prosessen (SQLite) …")
        found, rows = in_process(url, args.seed, args.runs)
    served = None
    if not args.no_gunicorn:
        log("Måler under gunicorn (PostgreSQL) …")
        served = under_gunicorn(
            postgres_dataset(args.scale, args.seed), args.seed, args.workers, args.threads, args.seconds
        )
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": dataset_key(args.scale, args.seed),
        "machine": machine(),
        "targets": found,
        "pages": rows,
        "gunicorn": served,
    }
    out = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(table(rows, served))
    print(f"\nResultatene er lagret i {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
