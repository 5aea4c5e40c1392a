"""One active follower per upstream log across replicas: a lock held for as long as the process lives.

PostgreSQL: a session-level advisory lock on a dedicated connection (released by the server the moment the
process or its connection dies). SQLite: an exclusive ``flock`` on a file beside the database (released by
the kernel when the process dies). Standby replicas retry every second, so one takes over within seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
from pathlib import Path
from typing import IO, Any

import psycopg
import sqlalchemy

from shared.database import is_sqlite, sqlalchemy_url

logger = logging.getLogger("aigov.leadership")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def libpq_url(url: str) -> str:
    """A URL psycopg accepts (no SQLAlchemy driver suffix)."""
    return (
        sqlalchemy.engine.make_url(sqlalchemy_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def close_quietly(connection: psycopg.Connection[Any] | None) -> None:
    """Close a dedicated connection that may already be dead (the server restarted, the network dropped)."""
    if connection is not None:
        with contextlib.suppress(psycopg.Error):
            connection.close()


class Leadership:
    """Try to become, and stay, the one process that runs the follower called ``name``."""

    def __init__(self, database_url: str, name: str, lock_dir: Path):
        self.database_url, self.name = database_url, name
        self.lock_dir = lock_dir
        self._connection: psycopg.Connection[Any] | None = None
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self.held():
            return True
        try:
            return self._try_file() if is_sqlite(self.database_url) else self._try_advisory()
        except (OSError, psycopg.Error) as error:
            logger.warning("cannot take the %s lock yet: %s", self.name, error)
            self.release()
            return False

    def _try_advisory(self) -> bool:
        connection = psycopg.connect(libpq_url(self.database_url), autocommit=True, connect_timeout=5)
        # Advisory locks are per database: the schema in the key keeps deployments that share one apart.
        schema = connection.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
        if connection.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(f"{schema}:{self.name}"),)).fetchone()[0]:  # type: ignore[index]
            self._connection = connection
            return True
        connection.close()
        return False

    def _try_file(self) -> bool:
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_dir / f"{self.name}.lock", "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def held(self) -> bool:
        """Whether we still hold it (a PostgreSQL restart drops the session, and the lock with it)."""
        if self._file is not None:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute("SELECT 1")
            return True
        except psycopg.Error:
            self.release()
            return False

    def release(self) -> None:
        close_quietly(self._connection)
        self._connection = None
        if self._file is not None:
            self._file.close()
            self._file = None
