"""How an idle follower waits: woken by PostgreSQL LISTEN/NOTIFY, or by SQLite's writes to its files.

The library's recorders ``NOTIFY <table>`` in every inserting transaction; a follower LISTENs on its
upstream tables so a new event reaches it within milliseconds, with polling as the fallback. On SQLite
``CommitWatch`` does the same from the file system's notifications of a commit's writes.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from shared.database import is_sqlite
from shared.leadership import close_quietly, libpq_url

logger = logging.getLogger("aigov.wakeup")


class Wakeup:
    def __init__(self, database_url: str, channels: list[str]):
        self.database_url, self.channels = database_url, channels
        self._connection: psycopg.Connection[Any] | None = None

    def _listening(self) -> psycopg.Connection[Any] | None:
        if is_sqlite(self.database_url):
            return None
        if self._connection is None or self._connection.closed:
            try:
                self._connection = psycopg.connect(libpq_url(self.database_url), autocommit=True, connect_timeout=5)
                for channel in self.channels:
                    self._connection.execute(f'LISTEN "{channel}"')
            except psycopg.Error as error:
                logger.warning("LISTEN unavailable, polling instead: %s", error)
                self.close()
        return self._connection

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Return when notified, when ``timeout`` passes, or when ``stop`` is set."""
        connection = self._listening()
        if connection is None:
            stop.wait(timeout)
            return
        try:
            for _ in connection.notifies(timeout=timeout, stop_after=1):
                break
        except psycopg.Error:
            self.close()
            stop.wait(timeout)

    def close(self) -> None:
        close_quietly(self._connection)
        self._connection = None


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL and for an in-memory database)."""
    if not is_sqlite(url) or ":memory:" in url:
        return None
    database = sqlalchemy.engine.make_url(url).database
    return Path(database).resolve() if database else None


class _CommitHandler(FileSystemEventHandler):
    def __init__(self, names: frozenset[str], wake: threading.Event):
        self.names, self.wake = names, wake

    def on_modified(self, event: FileSystemEvent) -> None:
        if Path(str(event.src_path)).name in self.names:
            self.wake.set()


class CommitWatch:
    """Wakes an idle follower when its upstream SQLite database commits.

    Why: SQLite has no LISTEN/NOTIFY, so a follower in another process polled every
    ``AIGOV_FOLLOWER_POLL_INTERVAL`` and a write reached the read models up to one interval late. A commit writes
    the database's write-ahead log (``<file>-wal``; the file itself in rollback mode), and the operating system
    reports the write to watchdog (inotify on Linux, FSEvents on macOS, kqueue on BSD), which sets ``wake``, the
    event the follower idles on. Polling stays the fallback: a watch that cannot start, or a wake that comes a
    moment before the commit is visible, costs at most one poll interval, never an event.
    """

    def __init__(self, database_files: set[Path], wake: threading.Event):
        self.database_files, self.wake = database_files, wake
        self._observer: BaseObserver | None = None

    @classmethod
    def of(cls, database_urls: list[str], wake: threading.Event) -> CommitWatch | None:
        files = {path for path in map(sqlite_file, database_urls) if path is not None}
        return cls(files, wake) if files else None

    def start(self) -> bool:
        """Watch each database's folder for writes to the database or its WAL (False: polling only)."""
        observer = Observer()
        try:
            for folder in {path.parent for path in self.database_files}:
                names = frozenset(
                    name
                    for path in self.database_files
                    if path.parent == folder
                    for name in (path.name, f"{path.name}-wal")
                )
                observer.schedule(_CommitHandler(names, self.wake), str(folder), recursive=False)
            observer.start()
        except OSError as error:  # e.g. the system's limit of inotify watches reached
            logger.warning("watching %s for commits unavailable, polling instead: %s", self.database_files, error)
            return False
        self._observer = observer
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
