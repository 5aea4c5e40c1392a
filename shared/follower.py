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
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy.orm import Session

from shared.database import is_sqlite
from shared.eventlog import AuditedApplication, LogEntry
from shared.leadership import Leadership
from shared.meta import correlation_id_var
from shared.settings import Settings
from shared.wakeup import Wakeup

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
        self.upstream_url = upstream.database_url

    @classmethod
    def configured(cls, settings: Settings, upstream: AuditedApplication, tracking: Any, handle: Handler) -> Follower:
        """A follower with the batch size and poll interval of ``settings``."""
        return cls(
            upstream,
            tracking,
            handle,
            batch_size=settings.follower_batch_size,
            poll_interval=settings.follower_poll_interval,
        )

    @property
    def upstream_name(self) -> str:
        return self.upstream.name

    def position(self) -> int:
        """The last upstream position whose effects are committed here."""
        return self.tracking.max_tracking_id(self.upstream_name) or 0

    def lag(self) -> int:
        return max(0, self.upstream.head_position() - self.position())

    def lag_report(self) -> dict[str, tuple[int, int, float | None]]:
        """Per upstream: position reached, upstream head, and when the oldest unprocessed event occurred."""
        return {self.upstream_name: lag_of(self.upstream, self.position())}

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
                    logger.info("followed %s event %s at position %d", self.upstream_name, entry.type, entry.position)
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

    @property
    def lock_name(self) -> str:
        return f"follow-{self.upstream_name}-into-{self.tracking.tracking_table_name}"

    @property
    def channels(self) -> list[str]:
        return [self.upstream.recorder.events_table_name]  # type: ignore[attr-defined]

    def reset(self) -> None:
        """Nothing is cached between batches: the tracked position is read from the database each time."""


def lag_of(upstream: AuditedApplication, position: int) -> tuple[int, int, float | None]:
    head = upstream.head_position()
    if head <= position:
        return position, head, None
    oldest = upstream.read_log(after=position, limit=1)
    return position, head, oldest[0].occurred_at.timestamp() if oldest else None


LEADERSHIP_RETRY_SECONDS = 1.0
IDLE_WAIT_SECONDS = 1.0


def run_follower(
    worker: Any, stop: threading.Event, leadership: Leadership | None, wakeup: Wakeup | None, poll_interval: float
) -> None:
    """Run ``worker`` while this process holds its leadership; errors are logged and retried, never skipped."""
    backoff, leading = poll_interval, False
    while not stop.is_set():
        if leadership is not None and not leadership.try_acquire():
            leading = False
            stop.wait(LEADERSHIP_RETRY_SECONDS)
            continue
        if not leading:
            worker.reset()  # another replica may have moved on while we were standing by
            leading = True
        try:
            handled = worker.process_available()
            worker.last_error, backoff = None, poll_interval
        except Exception as error:  # noqa: BLE001 - a follower must survive any failure and retry
            worker.last_error = f"{type(error).__name__}: {error}"
            logger.exception("follower %s failed; retrying in %.2fs", worker.lock_name, backoff)
            worker.reset()
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            continue
        if not handled:
            if wakeup is not None and not is_sqlite(wakeup.database_url):
                wakeup.wait(IDLE_WAIT_SECONDS, stop)
            else:
                idle(worker, stop, poll_interval)
    if leadership is not None:
        leadership.release()
    if wakeup is not None:
        wakeup.close()


def idle(worker: Any, stop: threading.Event, poll_interval: float) -> None:
    """Wait for the next poll, or less when a request waiting on this follower nudges it (``worker.wake``,
    set by shared.consistency): on SQLite, with no NOTIFY, a command waiting for authority as of now
    need not wait out the poll interval."""
    nudged: threading.Event | None = getattr(worker, "wake", None)
    if nudged is None:
        stop.wait(poll_interval)
    else:
        nudged.wait(poll_interval)
        nudged.clear()


class FollowerThreads:
    """Runs a service's followers in daemon threads for the lifetime of its web app, one replica at a time."""

    def __init__(self, followers: list[Any], settings: Settings | None = None):
        self.followers = followers
        self.settings = settings
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for follower in self.followers:
            follower.wake = threading.Event()  # requests waiting for this follower set it (shared.consistency)
            thread = threading.Thread(target=self._run, args=(follower,), name=follower.lock_name, daemon=True)
            thread.start()
            self.threads.append(thread)

    def _run(self, follower: Any) -> None:
        settings = self.settings
        if settings is None or not hasattr(follower, "process_available"):
            follower.run(self.stop_event)
            return
        leadership = Leadership(settings.database_url, follower.lock_name, Path(settings.var_dir) / "locks")
        wakeup = Wakeup(follower.upstream_url, follower.channels) if getattr(follower, "upstream_url", None) else None
        run_follower(follower, self.stop_event, leadership, wakeup, settings.follower_poll_interval)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
