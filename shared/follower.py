"""Followers: process another service's log exactly once, resuming after any crash where they stopped.

A batch of upstream events is handled in ONE transaction of the follower's own database, together with
the library's tracking record of the last position handled. Either the effects and the new position are
committed together, or neither is; after SIGKILL the follower re-reads from the tracked position, so
there is no gap and no duplicate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy.orm import Session

from shared.eventlog import AuditedApplication, LogEntry
from shared.meta import correlation_id_var

logger = logging.getLogger("aigov.follower")

Handler = Callable[[Session, LogEntry], None]
MAX_BACKOFF_SECONDS = 5.0


class Follower:
    """Follows one upstream log into the tables (or log) behind ``tracking``."""

    def __init__(
        self,
        upstream: AuditedApplication,
        tracking: SQLAlchemyTrackingRecorder,
        handle: Handler,
        *,
        batch_size: int = 200,
        poll_interval: float = 0.05,
    ):
        self.upstream = upstream
        self.tracking = tracking
        self.handle = handle
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.last_error: str | None = None

    @property
    def upstream_name(self) -> str:
        return self.upstream.name

    def position(self) -> int:
        """The last upstream position whose effects are committed here."""
        return self.tracking.max_tracking_id(self.upstream_name) or 0

    def lag(self) -> int:
        return max(0, self.upstream.head_position() - self.position())

    def process_available(self) -> int:
        """Handle the next batch, if any; returns how many events were handled."""
        entries = self.upstream.read_log(after=self.position(), limit=self.batch_size)
        if not entries:
            return 0
        with self.tracking.transaction(commit=True) as session:
            for entry in entries:
                token = correlation_id_var.set(entry.meta.correlation_id if entry.meta else None)
                try:
                    self.handle(session, entry)
                finally:
                    correlation_id_var.reset(token)
            self.tracking._insert_tracking(session, Tracking(self.upstream_name, entries[-1].position))
        return len(entries)

    def catch_up(self) -> int:
        """Handle everything recorded upstream so far (used by rebuilds and tests)."""
        total = 0
        while handled := self.process_available():
            total += handled
        return total

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; errors are logged and retried with backoff, never skipped."""
        backoff = self.poll_interval
        while not stop.is_set():
            try:
                handled = self.process_available()
                self.last_error = None
                backoff = self.poll_interval
            except Exception as error:  # noqa: BLE001 - a follower must survive any failure and retry
                self.last_error = f"{type(error).__name__}: {error}"
                logger.exception("follower of %s failed; retrying in %.2fs", self.upstream_name, backoff)
                handled = 0
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if not handled:
                stop.wait(self.poll_interval)


class FollowerThreads:
    """Runs a service's followers in daemon threads for the lifetime of its web app."""

    def __init__(self, followers: list[Any]):
        self.followers = followers
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for follower in self.followers:
            name = getattr(follower, "upstream_name", type(follower).__name__)
            thread = threading.Thread(target=follower.run, args=(self.stop_event,), name=f"follow-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
