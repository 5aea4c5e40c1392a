"""How an idle follower waits: woken by PostgreSQL LISTEN/NOTIFY, or polling on SQLite.

The library's recorders ``NOTIFY <table>`` in every inserting transaction; a follower LISTENs on its
upstream tables so a new event reaches it within milliseconds, with polling as the fallback.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

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
