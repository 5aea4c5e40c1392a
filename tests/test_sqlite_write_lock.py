"""SQLite's write lock is taken by ``BEGIN IMMEDIATE`` retried every millisecond, not by SQLite's busy handler.

Why: the busy handler sleeps up to 100 ms between attempts, so a writer slept on long after the lock was free
(the tail of propagation under load). How much sooner is measured in ``make bench`` (propagation), not here.
SQLite only: PostgreSQL queues lock waiters itself.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy

from shared.database import SQLITE_BUSY_TIMEOUT_MS, begin_immediate, create_engine
from shared.problems import storage_reason


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    return connection


def test_a_writer_waits_for_the_lock_takes_it_once_released_and_keeps_its_busy_timeout(tmp_path: Path) -> None:
    holder, waiter = connect(tmp_path / "db.sqlite3"), connect(tmp_path / "db.sqlite3")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        holder.execute("COMMIT")
        released.set()

    threading.Timer(0.3, release).start()
    begin_immediate(waiter)
    assert released.is_set(), "the writer began while another connection held the write lock"
    assert waiter.in_transaction
    waiter.execute("INSERT INTO t VALUES (1)")
    waiter.execute("COMMIT")
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == SQLITE_BUSY_TIMEOUT_MS


def test_an_error_other_than_busy_is_raised_and_the_busy_timeout_restored(tmp_path: Path) -> None:
    connection = connect(tmp_path / "db.sqlite3")
    connection.execute("BEGIN")
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        begin_immediate(connection)
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == SQLITE_BUSY_TIMEOUT_MS


def test_a_writer_still_locked_out_after_its_busy_timeout_gets_the_storage_condition_busy(tmp_path: Path) -> None:
    """The retry waits as long as the connection's busy timeout, then fails as SQLAlchemy reports a driver's error:
    a 503 ``busy`` for a client, not a 500 (shared.problems)."""
    holder = connect(tmp_path / "db.sqlite3")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        with engine.connect() as connection:
            connection.connection.driver_connection.execute("PRAGMA busy_timeout = 200")
            with pytest.raises(sqlalchemy.exc.OperationalError) as refused:
                connection.exec_driver_sql("SELECT 1")
            assert storage_reason(refused.value) == "busy"
            assert connection.connection.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0] == 200
    finally:
        holder.execute("COMMIT")
        engine.dispose()
