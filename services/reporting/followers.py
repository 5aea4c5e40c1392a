"""The reporting follower: folds the registry and risk logs into the read models, exactly once.

One follower reads both logs, so each batch's documents and BOTH tracking records commit in one
transaction: a crash at any point leaves tables and positions that agree, and a restart resumes from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.reporting import history
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from shared import logrows
from shared.database import read_only
from shared.follower import lag_of

logger = logging.getLogger("aigov.reporting")


class ProjectionFollower:
    """Follows both upstream logs into ``ReportingStore``'s tables."""

    def __init__(self, store: ReportingStore, batch_size: int = 200, poll_interval: float = 0.05):
        self.store = store
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.positions: dict[str, int] | None = None  # what is committed; None: read it again
        # What the last committed batch ended with, so the next one need not read it back (None: read it).
        self.clocks: dict[str, int | None] | None = None
        self.registered: dict[str, int] = {}
        self.last_error: str | None = None

    def process_available(self) -> int:
        """Fold the next batch of each log from its stored JSON and commit rows and positions together.

        Only the documents the batch touches are loaded (history.load_for), and each table is written in
        one statement, so a batch costs the same whether the read model holds a hundred projects or a million.
        """
        if self.positions is None:
            self.positions = self.store.positions()
        entries = {
            service: logrows.envelopes(self.store.upstreams[service], self.positions[service], self.batch_size)
            for service in UPSTREAMS
        }
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
        logger.info(
            "projected %d events up to registry %d, risk %d",
            handled,
            self.positions["registry"],
            self.positions["risk"],
        )
        return handled

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
    def upstream_url(self) -> str | None:
        """LISTEN needs one connection: only when both logs live in the same database (else poll)."""
        urls = {self.store.upstreams[service].database_url for service in UPSTREAMS}
        return urls.pop() if len(urls) == 1 else None

    def reset(self) -> None:
        self.positions, self.clocks, self.registered = None, None, {}
