"""Fixtures: one migrated database per test run (SQLite, or PostgreSQL when NETTVERK_TEST_DATABASE_URL is
set), reset to the seeded demo data before every test; an HTTP client that handles CSRF tokens like a browser."""

import os
import re
import sqlite3
import tempfile
from contextlib import closing, contextmanager
from functools import wraps
from pathlib import Path

import pytest
from flask import current_app, request
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

from nettverk import create_app
from nettverk.cli import upgrade_database
from nettverk.db import get_session

DEMO_PASSWORD = "demo-passord-2026"
USERS = {  # role in the permission matrix -> demo user (seeds/demo.json)
    "admin": "admin@nettverk.example",
    "coordinator": "koordinator.namdalen@nettverk.example",
    "coordinator_fosen": "koordinator.fosen@nettverk.example",
    "municipality_contact": "ingrid.aunoien@indrefosen.kommune.example",
    "service_staff": "per.lysvold@indrefosen.kommune.example",
    "service_leader": "marit.hovdan@indrefosen.kommune.example",
    "provider": "eirik.skjelvik@levanger.kommune.example",
    "participant": "hanne.vikstrand@namsos.kommune.example",
    "service_staff_namdal": "ragnhild.bjorgan@namsos.kommune.example",  # another barneverntjeneste
    "service_leader_namdal": "svein.otterstad@namsos.kommune.example",
    "provider_fosen": "jorid.fevag@indrefosen.kommune.example",  # the team of Familieråd in Fosen
}
CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def pytest_configure(config):
    """NETTVERK_TEST_NOW=2027-03-28T00:30:00+00:00 runs the suite as if at that moment, with the clock ticking on
    from it (`make test-days`), to find tests that depend on the day they run."""
    if moment := os.environ.get("NETTVERK_TEST_NOW"):
        import time_machine

        time_machine.travel(moment, tick=True).start()


@pytest.fixture(scope="session")
def database_url():
    url = os.environ.get("NETTVERK_TEST_DATABASE_URL")
    if url:
        url = _database_of_this_worker(url)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade_database(url)
        yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'test.db'}"
        upgrade_database(url)
        yield url


@contextmanager
def own_postgres_database(url: str, suffix: str):
    """An empty PostgreSQL database of a test's own on the server of `url`, named <url's database>_<worker>_<suffix>
    (never the suite's own database), dropped afterwards; yields its URL."""
    base, _, name = url.rpartition("/")
    own = f"{name}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{suffix}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')
    try:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(text(f'CREATE DATABASE "{own}"'))
        yield f"{base}/{own}"
    finally:
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own (nettverk_test_gw0, ...), created when missing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base, _, name = url.rpartition("/")
    own_name = f"{name}_{worker}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own_name}).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{own_name}"'))
    admin.dispose()
    return f"{base}/{own_name}"


def _empty_all_tables(engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


def make_app(database_url: str, **config):
    env = {"NETTVERK_ENV": "test", "NETTVERK_DATABASE_URL": database_url, "NETTVERK_BASE_URL": "http://nettverk.test"}
    app = create_app({"TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", **config}, env=env)
    app.after_request(_note_undocumented_api_status)
    return app


# Every answer of /api/v1 in any test must have its status in the OpenAPI document (openapi.py), so the document
# lists what clients really get; _api_statuses_are_documented fails the test that saw one that is not.
UNDOCUMENTED_API_ANSWERS: list[str] = []


def _note_undocumented_api_status(response):
    from nettverk.api.openapi import PATHS

    rule = request.url_rule
    if rule is not None and rule.rule.startswith("/api/v1") and request.method != "OPTIONS":
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        method = "get" if request.method == "HEAD" else request.method.lower()
        if str(response.status_code) not in PATHS.get(path, {}).get(method, {}).get("responses", {}):
            UNDOCUMENTED_API_ANSWERS.append(f"{request.method} {path} answered {response.status_code}")
    return response


@pytest.fixture(autouse=True)
def _api_statuses_are_documented():
    UNDOCUMENTED_API_ANSWERS.clear()
    yield
    assert not UNDOCUMENTED_API_ANSWERS, "not documented in nettverk/api/openapi.py: " + "; ".join(
        sorted(set(UNDOCUMENTED_API_ANSWERS))
    )


@pytest.fixture
def app(database_url, tmp_path):
    """An app on an empty database holding the reference data and the demo users (uploaded materials go to
    the test's own folder)."""
    from nettverk.seeding import load_demo

    global _current_app
    app = make_app(database_url, MATERIALS_DIR=str(tmp_path / "materials"))
    engine = app.extensions["nettverk.engine"]
    sqlite_path = engine.url.database if engine.dialect.name == "sqlite" else None
    if database_url in _seeded:
        engine.dispose()  # no pooled connection keeps the old content or an old sequence value
        if sqlite_path:
            _copy_sqlite(_seeded[database_url], sqlite_path)
        else:
            _restore_postgres(engine, _seeded[database_url])
    else:
        _empty_all_tables(engine)
        with app.app_context():
            load_demo(get_session())
            get_session().commit()
        engine.dispose()
        _seeded[database_url] = (
            _copy_sqlite(sqlite_path, f"{sqlite_path}.seeded") if sqlite_path else _snapshot_postgres(engine)
        )
    _current_app = app
    yield app
    _current_app = None
    app.extensions["nettverk.engine"].dispose()


_current_app = None  # the running test's app (one test at a time per process)
# The first test's seeded database is kept and put back before each next one: the same rows, ids and sequences
# as seeding again, in milliseconds instead of ~0.1 s on SQLite and ~0.3 s on PostgreSQL (minutes of the suite).
_seeded: dict = {}


def _copy_sqlite(source: str, target: str) -> str:
    """Copy a whole SQLite database file into another with SQLite's backup API."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
    return target


def _on_table(statement: str, *tables: str) -> sql.Composed:
    """`statement` with its {} filled by the tables' names, quoted by psycopg."""
    return sql.SQL(statement).format(sql.SQL(", ").join(map(sql.Identifier, tables)))


def _snapshot_postgres(engine) -> dict:
    """Every table's rows (COPY, binary) in the order they can be loaded back, every sequence's value, and the
    tables a trigger keeps append-only (they can only be emptied by TRUNCATE)."""
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            rows = []
            for table in SQLModel.metadata.sorted_tables:
                with cursor.copy(_on_table("COPY {} TO STDOUT (FORMAT binary)", table.name)) as copy:
                    rows.append((table.name, b"".join(bytes(block) for block in copy)))
            cursor.execute(
                "SELECT quote_ident(sequencename), last_value FROM pg_sequences WHERE schemaname = current_schema()"
            )
            sequences = cursor.fetchall()
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgtype & 11 = 11"
            )  # ROW (1) | BEFORE (2) | DELETE (8)
            append_only = [name for (name,) in cursor.fetchall()]
        connection.rollback()
    finally:
        connection.close()
    return {"rows": rows, "sequences": sequences, "append_only": append_only}


def _restore_postgres(engine, snapshot: dict) -> None:
    """Put the snapshot back in one transaction; the sequences last, as the data-version triggers move theirs.
    DELETE where it may, not TRUNCATE: on tables this small it takes a fifth of the time (~20 against ~75 ms)."""
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            if snapshot["append_only"]:
                cursor.execute(_on_table("TRUNCATE {}", *snapshot["append_only"]))
            for name, _ in reversed(snapshot["rows"]):
                if name not in snapshot["append_only"]:
                    cursor.execute(_on_table("DELETE FROM {}", name))
            for name, data in snapshot["rows"]:
                with cursor.copy(_on_table("COPY {} FROM STDIN (FORMAT binary)", name)) as copy:
                    copy.write(data)
            for name, value in snapshot["sequences"]:  # a sequence never used yet starts again at 1
                cursor.execute("SELECT setval(%s, %s, %s)", (name, value or 1, value is not None))
        connection.commit()
    finally:
        connection.close()


def in_app(helper):
    """A set-up helper that calls operations directly (they render mail, read settings and build links) runs in
    an app context of its own, not one for the whole test, which the test's requests would share."""

    @wraps(helper)
    def wrapped(*args, **kwargs):
        # Outside a test's app (the e2e crawl builds its objects in its own server's context), that app.
        with (_current_app or current_app._get_current_object()).app_context():
            return helper(*args, **kwargs)

    return wrapped


class CheckSession(Session):
    """The tests' own session, apart from the requests' sessions (no shared app context or `g`)."""

    def expire_all(self):
        # End the read transaction too: on SQLite a transaction keeps reading its old snapshot.
        self.rollback()
        super().expire_all()


@pytest.fixture
def db(app):
    """A session for setting up and checking what requests stored; call db.expire_all() (or
    db.commit() after own changes) before reading what a request wrote."""
    session = CheckSession(app.extensions["nettverk.engine"], expire_on_commit=False)
    yield session
    session.rollback()
    session.close()


class Browser:
    """The Flask test client plus what a browser does for us: keep the CSRF token, log in."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.client.get("/logg-inn").get_data(as_text=True)
            self._token = CSRF_FIELD.search(page).group(1)
        return self._token

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        return self.client.post(url, data=data, **kwargs)

    def login(self, email, password=DEMO_PASSWORD):
        response = self.post("/logg-inn", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def login_as(self, role):
        return self.login(USERS[role])


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def as_role(app):
    """as_role('admin') -> a Browser logged in as the demo user of that role (None: anonymous)."""

    def make(role):
        browser = Browser(app.test_client())
        if role is not None:
            browser.login_as(role)
        return browser

    return make


def outbox(db, to=None):
    from sqlmodel import select

    from nettverk.mail.models import OutboxMessage

    db.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.exec(query))


def link_in(message, path_prefix: str) -> str:
    """The path of the first link in an e-mail that starts with path_prefix."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s\"<]*)", message.body_text)
    assert match, f"no {path_prefix} link in: {message.body_text}"
    return match.group(1)
