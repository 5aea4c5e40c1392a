"""The reporting follower: folds the registry and risk logs into the read models, exactly once.

One follower reads both logs, so each batch's documents and BOTH tracking records commit in one
transaction: a crash at any point leaves tables and positions that agree, and a restart resumes from them.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from services.reporting import history
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from shared import logrows
from shared.database import read_only
from shared.follower import Seen, UpstreamHistoryChanged, checked_batch, lag_of, seen, upstream_databases
from shared.meta import correlation_id_var

logger = logging.getLogger("aigov.reporting")


def trace(entries: dict[str, list[Any]]) -> None:
    """One log line per request whose events the batch projected, under that request's correlation id, so one
    request can be followed through the three services' logs (a rebuild skips this: it replays history)."""
    requests: dict[str, list[str]] = {}
    for batch in entries.values():
        for entry in batch:
            correlation_id = (entry.get("meta") or {}).get("correlation_id")
            if correlation_id:
                requests.setdefault(correlation_id, []).append(
                    f"{entry['service']}:{entry['type']}@{entry['position']}"
                )
    for correlation_id, events in requests.items():
        token = correlation_id_var.set(correlation_id)
        try:
            logger.info("projected %s", ", ".join(events))
        finally:
            correlation_id_var.reset(token)


class ProjectionFollower:
    """Follows both upstream logs into ``ReportingStore``'s tables."""

    def __init__(
        self, store: ReportingStore, batch_size: int = 200, poll_interval: float = 0.05, trace_requests: bool = True
    ):
        self.store = store
        self.trace_requests = trace_requests
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.positions: dict[str, int] | None = None  # what is committed; None: read it again
        # What the last committed batch ended with, so the next one need not read it back (None: read it).
        self.clocks: dict[str, int | None] | None = None
        self.registered: dict[str, int] = {}
        self.last_error: str | None = None
        self.last_seen: dict[str, Seen | None] = dict.fromkeys(UPSTREAMS)
        self.halted: str | None = None

    def process_available(self) -> int:
        """Fold the next batch of each log from its stored JSON and commit rows and positions together.

        Only the documents the batch touches are loaded (history.load_for), and each table is written in
        one statement, so a batch costs the same whether the read model holds a hundred projects or a million.
        """
        if self.positions is None:
            self.positions = self.store.positions()
        entries = {service: self.next_batch(service, self.positions[service]) for service in UPSTREAMS}
        handled = sum(len(batch) for batch in entries.values())
        if not handled:
            return 0
        try:
            with read_only(), self.store.tracking.transaction(commit=False) as session:
                state = history.load_for(session, entries, self.positions)
                clocks = self.clocks or {service: history.last_clock(session, service) for service in UPSTREAMS}
                registered = history.registered_so_far(session, entries, self.registered)
            batch = history.fold(state, entries, clocks, registered)
            with self.store.tracking.transaction(commit=True) as session:
                self.store.persist(session, batch)
        except BaseException:
            self.reset()  # what was committed is unknown: read it again
            raise
        self.positions = dict(state.positions)
        self.clocks, self.registered = history.clocks_after(batch, clocks), dict(batch.registered)
        for service, page in entries.items():
            if page:
                self.last_seen[service] = seen(page[-1])
        logger.info(
            "projected %d events up to registry %d, risk %d",
            handled,
            self.positions["registry"],
            self.positions["risk"],
        )
        if self.trace_requests:
            trace(entries)
        return handled

    def next_batch(self, service: str, position: int) -> list[logrows.Envelope]:
        """The events after ``position``, read from the event at ``position`` itself, which must still be the one
        handled: one query gives the batch and the continuity check (stop rather than skip, shared.follower)."""
        read = functools.partial(logrows.envelopes, self.store.upstreams[service])
        try:
            batch, self.last_seen[service] = checked_batch(
                service, position, self.batch_size, read, self.last_seen[service]
            )
        except UpstreamHistoryChanged as error:
            self.halted = str(error)
            raise
        self.halted = None
        return batch

    def catch_up(self, on_batch: Callable[[int], None] | None = None) -> int:
        """Fold until both logs are exhausted; ``on_batch`` hears how many events each batch handled."""
        total = 0
        while handled := self.process_available():
            total += handled
            if on_batch is not None:
                on_batch(handled)
        return total

    def position(self) -> dict[str, int]:
        return self.store.positions()

    def lag_report(self) -> dict[str, tuple[int, int, float | None]]:
        positions = self.store.positions()
        return {service: lag_of(self.store.upstreams[service], positions[service]) for service in UPSTREAMS}

    lock_name = "reporting-projection"

    @property
    def channels(self) -> list[str]:
        return [f"{service}_events" for service in UPSTREAMS]

    @property
    def upstream_databases(self) -> list[str]:
        return upstream_databases(list(self.store.upstreams.values()))

    @property
    def upstream_url(self) -> str | None:
        """LISTEN needs one connection: only when both logs live in the same database (else poll)."""
        urls = {self.store.upstreams[service].database_url for service in UPSTREAMS}
        return urls.pop() if len(urls) == 1 else None

    def reset(self) -> None:
        self.positions, self.clocks, self.registered = None, None, {}


class PeriodicCheckpoints:
    """Takes a checkpoint of each log every ``interval`` seconds."""

    def __init__(self, reporting: ReportingStore, interval: float):
        self.reporting, self.interval = reporting, interval
        self.lock_name = "checkpoints"

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            for service in UPSTREAMS:
                try:
                    self.reporting.take_checkpoint(service)
                except Exception:  # noqa: BLE001 - a failed checkpoint is retried next period
                    logger.exception("checkpoint of %s failed", service)
