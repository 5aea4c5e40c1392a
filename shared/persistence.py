"""The ``eventsourcing`` persistence module aigov uses: the library's SQLAlchemy recorders, hash-chained.

Why chain at write time (not with a sealing follower): writers to one log are already serialised by the
library (``LOCK TABLE … IN EXCLUSIVE MODE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so reading the
previous link inside the same transaction is race-free and every committed event is sealed the moment it
is committed; there is no window in which an unsealed event could be altered unnoticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder, SQLAlchemyProcessRecorder
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from shared.database import configure_engine
from shared.hashchain import GENESIS_HASH, canonical_bytes, link
from shared.schema import EVENT_HASH_TABLES
from shared.transparency.store import append_leaves


class HashChainMixin:
    """Adds, in the inserting transaction, one chain link per new event to ``<service>_event_hashes``."""

    events_table_name: str

    @property
    def hash_table(self) -> Table:
        return EVENT_HASH_TABLES[self.events_table_name.removesuffix("_events")]

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        positions = super()._insert_stored_events(session, stored_events, **kwargs)  # type: ignore[misc]
        previous = (
            session.execute(
                select(self.hash_table.c.hash).order_by(self.hash_table.c.position.desc()).limit(1)
            ).scalar_one_or_none()
            or GENESIS_HASH
        )
        rows = []
        leaves = []
        for position, stored in zip(positions, stored_events, strict=True):
            leaf = canonical_bytes(
                position, stored.originator_id, stored.originator_version, stored.topic, stored.state
            )
            previous = link(previous, leaf)
            rows.append({"position": position, "hash": previous})
            leaves.append(leaf)
        if rows:
            session.execute(self.hash_table.insert(), rows)
            # The Merkle tree (shared/transparency) grows in the same transaction: no event is ever unsealed.
            append_leaves(session, self.events_table_name.removesuffix("_events"), positions, leaves)
        return positions


class HashChainedApplicationRecorder(HashChainMixin, SQLAlchemyApplicationRecorder):
    """The registry's recorder."""


class HashChainedProcessRecorder(HashChainMixin, SQLAlchemyProcessRecorder):
    """The recorder of a service that both follows another log and writes its own (risk)."""


class AigovFactory(SQLAlchemyFactory):
    """The library's SQLAlchemy factory with hash-chained recorders and aigov's engine settings."""

    application_recorder_class = HashChainedApplicationRecorder
    process_recorder_class = HashChainedProcessRecorder

    def __init__(self, env: Environment):
        super().__init__(env)
        if self.datastore.engine is not None:
            configure_engine(self.datastore.engine)
