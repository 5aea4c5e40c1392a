"""The base of each service's ``eventsourcing`` application: its own hash-chained log, readable by others.

Reading is through the library's notification log (``select_notifications``); the hash links come from the
``<service>_event_hashes`` table written in the same transaction as the events.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Notification
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.database import eventsourcing_env
from shared.hashchain import ChainedRecord, VerificationResult, verify_chain
from shared.meta import EventMeta, EventMetaAsDict
from shared.schema import EVENT_HASH_TABLES, library_metadata

_ENVELOPE_FIELDS = {"originator_id", "originator_version", "timestamp", "meta"}


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from event attributes (UUIDs, datetimes, enums, dataclasses, tuples)."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, EventMeta):
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key: to_jsonable(item) for key, item in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(item) for item in value]
    return value


@dataclass(frozen=True)
class LogEntry:
    """One event as it sits in a service's log: position, hash, the decoded event and its metadata."""

    service: str
    position: int
    hash: str | None
    event: Any
    topic: str
    state: bytes

    @property
    def type(self) -> str:
        return type(self.event).__name__

    @property
    def aggregate_id(self) -> UUID:
        return self.event.originator_id

    @property
    def meta(self) -> EventMeta | None:
        return getattr(self.event, "meta", None)

    @property
    def occurred_at(self) -> datetime:
        return self.event.timestamp

    @property
    def data(self) -> dict[str, Any]:
        return {key: to_jsonable(value) for key, value in vars(self.event).items() if key not in _ENVELOPE_FIELDS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "position": self.position,
            "hash": self.hash,
            "type": self.type,
            "topic": self.topic,
            "schema_version": getattr(type(self.event), "class_version", 1),
            "aggregate_id": str(self.aggregate_id),
            "aggregate_version": self.event.originator_version,
            "occurred_at": self.occurred_at.isoformat(),
            "meta": self.meta.as_dict() if self.meta else None,
            "data": self.data,
        }


class AuditedApplication(Application[UUID]):
    """An ``eventsourcing`` application whose log is hash-chained and whose events carry ``EventMeta``."""

    def __init__(self, database_url: str, env: dict[str, str] | None = None):
        self.database_url = database_url
        super().__init__(env={**eventsourcing_env(database_url), **(env or {})})

    #: Called with the type names of the events each save recorded (the metrics hook of the web layer).
    on_recorded: Any = None

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        if self.on_recorded is not None:
            self.on_recorded([type(recording.domain_event).__name__ for recording in recordings])
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EventMetaAsDict())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One database transaction for everything done inside: events, their hashes, indexes, tracking."""
        with self.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
            yield session

    def read_session(self) -> Any:
        return self.recorder.transaction(commit=False)  # type: ignore[attr-defined]

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read_log(self, after: int = 0, limit: int = 100) -> list[LogEntry]:
        """Events after position ``after``, in log order, each with its chain link."""
        notifications = self.recorder.select_notifications(start=after + 1, limit=limit)
        return self._entries(notifications)

    def _entries(self, notifications: list[Notification]) -> list[LogEntry]:
        if not notifications:
            return []
        hashes = self._hashes(notifications[0].id, notifications[-1].id)
        return [
            LogEntry(self.name, n.id, hashes.get(n.id), self.mapper.to_domain_event(n), n.topic, n.state)
            for n in notifications
        ]

    def _hashes(self, first: int, last: int) -> dict[int, str]:
        table = EVENT_HASH_TABLES[self.name]
        with self.read_session() as session:
            rows = session.execute(select(table.c.position, table.c.hash).where(table.c.position.between(first, last)))
            return {position: value for position, value in rows}

    def iter_chained_records(self, batch_size: int = 10_000) -> Iterator[ChainedRecord]:
        """Every stored event with its stored link, straight from the tables (nothing decoded).

        One keyset-paged ``SELECT … LEFT JOIN`` of the events and their links in plain SQL: reading through
        the library's notifications and a second query for the links made verification ~7× slower than
        hashing (docs/benchmarks.md)."""
        events = library_metadata.tables[f"{self.name}_events"]
        links = EVENT_HASH_TABLES[self.name]
        query = (
            select(
                events.c.id,
                events.c.originator_id,
                events.c.originator_version,
                events.c.topic,
                events.c.state,
                links.c.hash,
            )
            .outerjoin(links, links.c.position == events.c.id)
            .order_by(events.c.id)
            .limit(batch_size)
        )
        after = 0
        while True:
            with self.read_session() as session:
                rows = session.execute(query.where(events.c.id > after)).all()
            if not rows:
                return
            for row in rows:
                yield ChainedRecord._make(row)
            after = rows[-1][0]

    def verify_log(self) -> VerificationResult:
        """Walk the whole log and report ``ok`` or the first position whose bytes or link do not match."""
        result = verify_chain(self.iter_chained_records())
        if result.ok and self._has_orphan_hashes(result.head_position or 0):
            return dataclasses.replace(
                result,
                ok=False,
                first_bad_position=(result.head_position or 0) + 1,
                problem="chain links exist for events that are missing from the log",
            )
        return result

    def _has_orphan_hashes(self, head: int) -> bool:
        table = EVENT_HASH_TABLES[self.name]
        with self.read_session() as session:
            return session.execute(select(table.c.position).where(table.c.position > head).limit(1)).first() is not None
