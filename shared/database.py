"""Database URLs and engines: one setting chooses SQLite (embedded default) or PostgreSQL (production)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_LOCK_RETRY_SECONDS = 0.001

#: True while the current transaction only reads: on SQLite it then begins deferred (a WAL snapshot that never
#: waits for writers) instead of ``BEGIN IMMEDIATE``, which took the write lock for every poll and every GET.
READ_ONLY: ContextVar[bool] = ContextVar("aigov_read_only", default=False)


@contextmanager
def read_only() -> Iterator[None]:
    """Mark the transactions begun inside as read-only (they must not write: a write would fail, not wait)."""
    token = READ_ONLY.set(True)
    try:
        yield
    finally:
        READ_ONLY.reset(token)


def sqlalchemy_url(url: str) -> str:
    """Accept ``postgresql://`` as operators write it and pick the psycopg 3 driver SQLAlchemy needs."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL and for an in-memory database)."""
    if not is_sqlite(url) or ":memory:" in url:
        return None
    database = sqlalchemy.engine.make_url(url).database
    return Path(database).resolve() if database else None


def ensure_sqlite_directory(url: str) -> None:
    """The embedded default lives under ``var/``; create the folder so a fresh clone just works."""
    if (path := sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def configure_engine(engine: Engine) -> None:
    """Make SQLite safe for several processes: WAL, a busy timeout, and ``BEGIN IMMEDIATE``.

    ``BEGIN IMMEDIATE`` takes the write lock when a transaction starts, so a transaction that reads and then
    writes waits for other writers (within the busy timeout) instead of failing with "database is locked".
    Transactions begun under ``read_only()`` begin deferred instead: they never write, so they need no lock.
    """
    if getattr(engine, "_aigov_configured", False):
        return
    engine._aigov_configured = True  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        configure_postgresql_engine(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if READ_ONLY.get():
            connection.exec_driver_sql("BEGIN")
            return
        try:
            begin_immediate(connection.connection.driver_connection)
        except sqlite3.Error as error:  # as SQLAlchemy raises a driver's error, so callers see one kind
            raise sqlalchemy.exc.DBAPIError.instance("BEGIN IMMEDIATE", None, error, sqlite3.Error) from error


def begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, retried every millisecond while another connection holds the write lock, for as long
    as the connection's busy timeout.

    Why not SQLite's busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then 100 ms between
    attempts, so a writer that finds the lock taken often sleeps on for tens of milliseconds after it was
    released: the tail of propagation and of the write path under load on SQLite. The handler stays for every
    other statement.
    """
    (timeout_ms,) = dbapi_connection.execute("PRAGMA busy_timeout").fetchone()
    deadline = time.monotonic() + timeout_ms / 1000
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(SQLITE_LOCK_RETRY_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def configure_postgresql_engine(engine: Engine) -> None:
    """Drop pooled sessions that found the database read-only (SQLSTATE 25006).

    A session takes ``default_transaction_read_only`` when it connects: after a fail-over to a standby, or
    while an operator holds the database read-only, every pooled session stays read-only even once the
    database accepts writes again. Treating the error as a disconnect makes the pool open fresh sessions, so
    writes resume without restarting the service.
    """

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        if getattr(context.original_exception, "sqlstate", None) == "25006":
            context.is_disconnect = True


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for aigov's own use (migrations, verification) configured like the recorders' engines."""
    ensure_sqlite_directory(url)
    engine = sqlalchemy.create_engine(sqlalchemy_url(url), **kwargs)
    configure_engine(engine)
    return engine


def eventsourcing_env(url: str) -> dict[str, str]:
    """The ``eventsourcing`` environment for an application stored at ``url``; Alembic creates the tables."""
    ensure_sqlite_directory(url)
    return {
        "PERSISTENCE_MODULE": "shared.persistence:AigovFactory",
        "SQLALCHEMY_URL": sqlalchemy_url(url),
        "CREATE_TABLE": "n",
    }
