"""Engine, one session per request, SQLite pragmas.

A request's session commits when the response is a success and rolls back otherwise, so a
refused form or a failed operation never leaves anything half-saved.
"""

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, create_engine

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # pysqlite's own transaction handling is unreliable; SQLAlchemy emits BEGIN instead
            # (the recipe from SQLAlchemy's SQLite documentation).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            # IMMEDIATE (see begin_write) takes the write lock at once, so writers queue on busy_timeout.
            connection.exec_driver_sql(f"BEGIN {connection.get_execution_options().get('sqlite_begin', '')}")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


@event.listens_for(Session, "after_flush")
def _note_write(session, _context):
    session.info["wrote"] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session, transaction):
    if transaction.parent is None:
        session.info.pop("wrote", None)


def init_app(app: Flask) -> None:
    app.extensions["nettverk.engine"] = make_engine(app.config["DATABASE_URL"])

    @app.teardown_appcontext
    def _close_session(exc):
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def get_engine() -> Engine:
    return current_app.extensions["nettverk.engine"]


def get_session() -> Session:
    """The session of the current request (or CLI command), created on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
        if has_request_context() and request.method not in SAFE_METHODS and get_engine().dialect.name == "sqlite":
            # A request that may write takes SQLite's write lock with its first statement. Otherwise a
            # transaction that read first (loading the user) and writes later fails at once with
            # "database is locked" when another writer committed in between (SQLITE_BUSY_SNAPSHOT).
            g.db_session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    return g.db_session


def lock_for_update(session: Session, model, row_id: int):
    """Lock one row until the transaction ends and return it freshly read: the place where a
    capacity check is made safe. PostgreSQL: SELECT … FOR UPDATE. SQLite has no row locks: the
    transaction is restarted as BEGIN IMMEDIATE, which takes the database's write lock, so
    writers queue instead of racing. Call it before the operation writes anything."""
    from sqlmodel import select

    if session.get_bind().dialect.name == "sqlite":
        begin_write(session)
        query = select(model).where(model.id == row_id)
    else:
        query = select(model).where(model.id == row_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).one()


def begin_write(session: Session) -> None:
    """Before a request that began as a read writes (an audit row in a GET, a lock): on SQLite take
    the database's write lock now, since a read transaction that writes later fails at once when
    another request wrote in between (SQLITE_BUSY_SNAPSHOT). PostgreSQL needs nothing."""
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.new or session.dirty or session.deleted or session.info.get("wrote"):
        session.flush()  # a transaction that has written already holds SQLite's write lock
        return
    if session.in_transaction():
        session.commit()  # ends the read-only transaction the request began (e.g. loading the user)
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def finish_request(response):
    """Commit on success (status < 400), roll back otherwise. Called from an after_request hook."""
    session = g.get("db_session")
    if session is None:
        return response
    if response.status_code < 400:
        try:
            session.commit()
        except (IntegrityError, DataError) as error:  # a conflict found only at commit: the same answer as in a view
            session.rollback()
            return current_app.make_response(current_app.handle_user_exception(error))
    else:
        session.rollback()
    return response
