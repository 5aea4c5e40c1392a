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
from typing import Any, TypeVar

from eventsourcing.persistence import Tracking
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy.orm import Session

from shared.database import is_sqlite
from shared.leadership import Leadership
from shared.logreader import DatabaseLog, Envelope, HttpLog
from shared.meta import correlation_id_var
from shared.settings import Settings
from shared.wakeup import CommitWatch, Wakeup

logger = logging.getLogger("aigov.follower")

Handler = Callable[[Session, Envelope], None]
Upstream = DatabaseLog | HttpLog
Seen = tuple[int, str | None]  # an upstream event as a follower saw it: its position and chain link
Item = TypeVar("Item", Envelope, dict[str, Any])


class UpstreamHistoryChanged(RuntimeError):
    """The upstream log went backwards or a handled position reappeared: never skip, stop and say so."""


MAX_BACKOFF_SECONDS = 5.0


class Follower:
    """Follows one upstream log into the tables (or log) behind ``tracking``."""

    def __init__(
        self,
        upstream: Upstream,
        tracking: SQLAlchemyTrackingRecorder,
        handle: Handler,
        *,
        batch_size: int = 200,
        poll_interval: float = 0.05,
    ):
        self.upstream: Upstream = getattr(upstream, "log", upstream)  # a service's application: its own log
        self.tracking = tracking
        self.handle = handle
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.last_error: str | None = None
        self.upstream_url = self.upstream.database_url if self.upstream.channel else None
        #: The upstream position last handled and its chain link, to notice that position vanish or reappear.
        self.last_seen: Seen | None = None
        #: Why this follower refuses to go on (an upstream history that went backwards), for readiness.
        self.halted: str | None = None

    @classmethod
    def configured(cls, settings: Settings, upstream: Upstream, tracking: Any, handle: Handler) -> Follower:
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
        return self.upstream.contract.service

    def position(self) -> int:
        """The last upstream position whose effects are committed here."""
        return self.tracking.max_tracking_id(self.upstream_name) or 0

    def lag(self) -> int:
        return max(0, self.upstream.head() - self.position())

    def lag_report(self) -> dict[str, tuple[int, int, float | None]]:
        """Per upstream: position reached, upstream head, and when the oldest unprocessed event occurred."""
        return {self.upstream_name: lag_of(self.upstream, self.position())}

    def process_available(self) -> int:
        """Handle the next batch, if any; returns how many events were handled."""
        entries = self.next_batch(self.position())
        if not entries:
            return 0
        with self.tracking.transaction(commit=True) as session:
            for entry in entries:
                token = correlation_id_var.set(entry.correlation_id)
                try:
                    self.handle(session, entry)
                    logger.info("followed %s event %s at position %d", self.upstream_name, entry.type, entry.position)
                finally:
                    correlation_id_var.reset(token)
            self.tracking._insert_tracking(session, Tracking(self.upstream_name, entries[-1].position))
        self.last_seen = seen(entries[-1])
        return len(entries)

    def next_batch(self, position: int) -> list[Envelope]:
        """The events after ``position``, read from the event at ``position`` itself, which must still be the one
        handled (``continuity``): one read gives the batch and the check. A follower woken with nothing new (on
        SQLite every commit to the file wakes it) reads the one event it handled last, instead of reading it and
        then reading again for the batch."""
        try:
            batch, self.last_seen = checked_batch(
                self.upstream_name, position, self.batch_size, self.upstream.envelopes, self.last_seen
            )
        except UpstreamHistoryChanged as error:
            self.halted = str(error)
            raise
        self.halted = None
        return batch

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
        channel = self.upstream.channel
        return [channel] if channel else []

    @property
    def upstream_databases(self) -> list[str]:
        """The database URL of the upstream log, when it is read from a database (not over HTTP)."""
        return upstream_databases([self.upstream])

    def reset(self) -> None:
        """Nothing is cached between batches: the tracked position is read from the database each time."""


def checked_batch(
    service: str, position: int, batch_size: int, read: Callable[[int, int], list[Item]], last_seen: Seen | None
) -> tuple[list[Item], Seen | None]:
    """The up to ``batch_size`` events after ``position``, read (``read(after, limit)``) from the event at
    ``position`` itself, which must still be the one handled (``continuity``): one read gives the batch and the
    check. Returns the batch and what was seen at ``position``."""
    if position == 0:
        return read(0, batch_size), last_seen
    page = read(position - 1, batch_size + 1)
    return page[1:], continuity(service, position, seen(page[0]) if page else None, last_seen)


def seen(item: Envelope | dict[str, Any]) -> Seen:
    """Position and chain link of an envelope, as the log readers give it (a dataclass, or rows as dicts)."""
    return (item["position"], item["hash"]) if isinstance(item, dict) else (item.position, item.hash)


def continuity(service: str, position: int, first: Seen | None, last_seen: Seen | None) -> Seen | None:
    """Raise when the upstream log no longer holds what a follower handled: no event at the tracked position
    (truncated), or that position holding another event than the one handled (deleted and reused, as SQLite
    does with a deleted last row). Skipping would silently lose the new event. ``first`` is the upstream's first
    event from ``position`` on (position, chain link), as read now. Returns what was seen."""
    if position == 0:
        return None
    problem = None
    if first is None or first[0] != position:
        problem = f"upstream {service} log no longer holds position {position}, already handled here"
    elif last_seen is not None and last_seen[0] == position and last_seen[1] != first[1]:
        problem = f"upstream {service} position {position} reappeared with another event"
    if problem is not None:
        raise UpstreamHistoryChanged(f"halted: {problem} (truncated or rewritten history; see aigov log verify)")
    return first


def lag_of(upstream: Upstream, position: int) -> tuple[int, int, float | None]:
    head = upstream.head()
    if head <= position:
        return position, head, None
    oldest = upstream.envelopes(position, 1)
    return position, head, oldest[0].occurred_at.timestamp() if oldest else None


def upstream_databases(upstreams: list[Upstream]) -> list[str]:
    return [upstream.database_url for upstream in upstreams if isinstance(upstream, DatabaseLog)]


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
                wakeup.wait(max(IDLE_WAIT_SECONDS, poll_interval), stop)
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
        commits = CommitWatch.of(getattr(follower, "upstream_databases", []))
        if commits is not None:
            follower.wake = commits  # idles until a commit upstream, or a request's nudge
        try:
            run_follower(follower, self.stop_event, leadership, wakeup, settings.follower_poll_interval)
        finally:
            if commits is not None:
                commits.close()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for follower in self.followers:
            wake = getattr(follower, "wake", None)
            if wake is not None:
                wake.set()  # an idle follower stops now, not at its next poll
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
