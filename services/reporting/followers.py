"""The reporting follower: folds the registry and risk logs into the read models, exactly once.

One follower reads both logs, so each batch's documents and BOTH tracking records commit in one
transaction: a crash at any point leaves tables and positions that agree, and a restart resumes from them.
"""

from __future__ import annotations

import logging

from services.reporting.projection import Projection
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from shared.follower import UpstreamHistoryChanged, lag_of, upstream_continuity
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
        self.last_seen: dict[str, tuple[int, str | None] | None] = dict.fromkeys(UPSTREAMS)
        self.halted: str | None = None

    def process_available(self) -> int:
        """Fold the next batch of each log and commit documents and positions together."""
        if self.state is None:
            self.state = self.store.load()
        self.check_upstream_continuity(self.state.positions)
        batches = {
            service: self.store.upstreams[service].read_log(after=self.state.positions[service], limit=self.batch_size)
            for service in UPSTREAMS
        }
        handled = sum(len(batch) for batch in batches.values())
        if not handled:
            return 0
        try:
            for batch in batches.values():
                for entry in batch:
                    token = correlation_id_var.set(entry.meta.correlation_id if entry.meta else None)
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
        for service, batch in batches.items():
            if batch:
                self.last_seen[service] = (batch[-1].position, batch[-1].hash)
        return handled

    def check_upstream_continuity(self, positions: dict[str, int]) -> None:
        """Stop rather than skip when an upstream position vanished or reappeared (shared.follower)."""
        try:
            for service in UPSTREAMS:
                upstream = self.store.upstreams[service]
                self.last_seen[service] = upstream_continuity(upstream, positions[service], self.last_seen[service])
        except UpstreamHistoryChanged as error:
            self.halted = str(error)
            raise
        self.halted = None

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
