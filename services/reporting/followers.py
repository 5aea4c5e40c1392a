"""The reporting follower: folds the registry and risk logs into the read models, exactly once.

One follower reads both logs, so each batch's documents and BOTH tracking records commit in one
transaction: a crash at any point leaves tables and positions that agree, and a restart resumes from them.
"""

from __future__ import annotations

import logging
import threading

from services.reporting.projection import Projection
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from shared.follower import lag_of
from shared.meta import correlation_id_var

logger = logging.getLogger("aigov.reporting")


class ProjectionFollower:
    """Follows both upstream logs into ``ReportingStore``'s tables."""

    def __init__(self, store: ReportingStore, batch_size: int = 200, poll_interval: float = 0.05):
        self.store = store
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.state: Projection | None = None
        self.last_error: str | None = None

    def process_available(self) -> int:
        """Fold the next batch of each log and commit documents and positions together."""
        if self.state is None:
            self.state = self.store.load()
        batches = {
            service: self.store.upstreams[service].envelopes(self.state.positions[service], self.batch_size)
            for service in UPSTREAMS
        }
        handled = sum(len(batch) for batch in batches.values())
        if not handled:
            return 0
        try:
            for batch in batches.values():
                for entry in batch:
                    token = correlation_id_var.set(entry.correlation_id)
                    try:
                        self.state.apply(entry.as_dict())
                        logger.info("projected %s event %s at position %d", entry.service, entry.type, entry.position)
                    finally:
                        correlation_id_var.reset(token)
            with self.store.tracking.transaction(commit=True) as session:
                self.store.persist(session, self.state)
        except BaseException:
            self.state = None  # memory may be ahead of the database: reload from what was committed
            raise
        return handled

    def catch_up(self) -> int:
        total = 0
        while handled := self.process_available():
            total += handled
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
    def upstream_url(self) -> str | None:
        """LISTEN needs one connection: only when both logs live in the same database (else poll)."""
        urls = {self.store.upstreams[service].database_url for service in UPSTREAMS}
        return urls.pop() if len(urls) == 1 else None

    def reset(self) -> None:
        self.state = None


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
