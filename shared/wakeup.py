"""How an idle follower waits: woken by PostgreSQL LISTEN/NOTIFY, or by SQLite's writes to its files.

The library's recorders ``NOTIFY <table>`` in every inserting transaction; a follower LISTENs on its
upstream tables so a new event reaches it within milliseconds, with polling as the fallback. On SQLite
``CommitWatch`` does the same from inotify's reports of a commit's writes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

try:  # Linux only; elsewhere SQLite followers poll
    from inotify_simple import INotify
    from inotify_simple import flags as inotify_flags
except ImportError:  # pragma: no cover - not Linux
    INotify = None

from shared.database import is_sqlite, sqlite_file
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


class CommitWatch:
    """What an idle follower of a SQLite database waits on: a commit to that database, or a nudge.

    Why: SQLite has no LISTEN/NOTIFY, so a follower in another process polled every
    ``AIGOV_FOLLOWER_POLL_INTERVAL`` and a write reached the read models up to one interval late. A commit writes
    the database's write-ahead log (``<file>-wal``; the file itself in rollback mode), and Linux's inotify reports
    the write. The follower reads those reports only while it idles (``wait``): no thread, nothing per write while
    it works, whatever the other services write. (A watching thread per follower, as watchdog runs, took the
    GIL for every write of every service and cut the write path's throughput by half under load: measured.)
    ``set`` is the nudge of a request waiting on this follower (``shared.consistency``), so the watch stands in
    for the follower's ``wake`` event. Polling stays the fallback: where inotify is missing (not Linux) or refuses
    a watch, or a wake comes a moment before the commit is visible, a change waits one poll interval at most.
    """

    def __init__(self, database_files: set[Path]):
        self.database_files = database_files
        self.names = frozenset(name for path in database_files for name in (path.name, f"{path.name}-wal"))
        self._inotify: Any = None
        self._nudges = -1
        self._closing = threading.Lock()  # a nudge never writes to a closed (or since reused) descriptor

    @classmethod
    def of(cls, database_urls: list[str]) -> CommitWatch | None:
        """A watch of the SQLite files among ``database_urls``, started (None: nothing to watch, or no inotify)."""
        files = {path for path in map(sqlite_file, database_urls) if path is not None}
        if not files or INotify is None:
            return None
        watch = cls(files)
        return watch if watch.start() else None

    def start(self) -> bool:
        try:
            self._inotify = INotify()
            for folder in {path.parent for path in self.database_files}:
                self._inotify.add_watch(str(folder), inotify_flags.MODIFY | inotify_flags.CREATE)
            self._nudges = os.eventfd(0, os.EFD_NONBLOCK)
        except OSError as error:  # e.g. the system's limit of inotify watches reached
            logger.warning("watching %s for commits unavailable, polling instead: %s", self.database_files, error)
            self.close()
            return False
        return True

    def set(self) -> None:
        """Wake the waiting follower now (any thread)."""
        with self._closing:
            if self._nudges >= 0:
                os.eventfd_write(self._nudges, 1)

    def clear(self) -> None:
        """Forget nudges already answered (the reports of writes are consumed by ``wait``)."""
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self._nudges)

    def wait(self, timeout: float) -> bool:
        """Return True at the first write to a watched database or a nudge, False when ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self._inotify, self._nudges], [], [], left)
            if self._nudges in ready:
                return True
            if self._inotify in ready and any(event.name in self.names for event in self._inotify.read(timeout=0)):
                return True
        return False

    def close(self) -> None:
        with self._closing:
            if self._inotify is not None:
                self._inotify.close()
                self._inotify = None
            if self._nudges >= 0:
                os.close(self._nudges)
                self._nudges = -1
