"""Reading any service's log as envelopes, knowing nothing of that service but its published contract.

Two sources serve the same envelopes: the log's tables in its database (the default; PostgreSQL wakes idle
readers with LISTEN/NOTIFY, see ``shared.wakeup``) and the service's HTTP log API (``GET /v1/log``), for an
upstream run by another organisation. Stored states are decoded with the library's JSON transcoder and
aigov's transcodings only, never by resolving the producer's classes, and lifted to the contract's current
schema version by its upcasters.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import httpx
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from sqlalchemy import LargeBinary, String, Table, and_, bindparam, cast, func, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Join

from shared.contracts import Contract
from shared.database import create_engine, is_sqlite, read_only
from shared.hashchain import ChainedRecord as StoredRecord
from shared.logcheck import Frame, frame_page
from shared.meta import EventMeta, EventMetaAsDict
from shared.schema import EVENT_HASH_TABLES, library_metadata

_ENVELOPE_KEYS = ("timestamp", "meta", "class_version")


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from decoded event attributes (UUIDs, datetimes, enums, dataclasses, tuples)."""
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


def event_type_of(topic: str) -> str:
    """The event type a stored topic names (``module:Aggregate.EventType`` → ``EventType``)."""
    return topic.rpartition(":")[2].rpartition(".")[2]


@dataclass(frozen=True)
class Envelope:
    """One event as a log serves it: where it sits, who did it and why, and its payload as JSON values."""

    service: str
    position: int
    hash: str | None
    type: str
    topic: str
    schema_version: int
    aggregate_id: UUID
    aggregate_version: int
    occurred_at: datetime
    meta: EventMeta | None
    data: dict[str, Any]
    state: bytes | None = None

    @property
    def correlation_id(self) -> str | None:
        return self.meta.correlation_id if self.meta else None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``GET /v1/log`` items, export replays and the reporting projection's input."""
        return {
            "service": self.service,
            "position": self.position,
            "hash": self.hash,
            "type": self.type,
            "topic": self.topic,
            "schema_version": self.schema_version,
            "aggregate_id": str(self.aggregate_id),
            "aggregate_version": self.aggregate_version,
            "occurred_at": self.occurred_at.isoformat(),
            "meta": self.meta.as_dict() if self.meta else None,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> Envelope:
        """An envelope as served over HTTP (no stored bytes)."""
        meta = item.get("meta")
        return cls(
            service=item["service"],
            position=item["position"],
            hash=item.get("hash"),
            type=item["type"],
            topic=item["topic"],
            schema_version=item["schema_version"],
            aggregate_id=UUID(item["aggregate_id"]),
            aggregate_version=item["aggregate_version"],
            occurred_at=datetime.fromisoformat(item["occurred_at"]),
            meta=EventMeta(**meta) if meta else None,
            data=item["data"],
        )


def state_transcoder() -> JSONTranscoder:
    """The library's JSON transcoder with the transcodings every aigov log uses."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr(), EventMetaAsDict()):
        transcoder.register(transcoding)
    return transcoder


def uuid_text(column: Any, dialect: str) -> Any:
    """A UUID column as the driver should fetch it: text on PostgreSQL (cast by the server), the stored 16 bytes
    on SQLite (``uuid_of_bytes`` formats them): never a ``UUID`` object per row, which verification can't afford."""
    return cast(column, String) if dialect == "postgresql" else type_coerce(column, LargeBinary)


def uuid_of_bytes(value: Any) -> str:
    """The canonical text of a UUID stored as 16 bytes (already text: returned as it is)."""
    if not isinstance(value, bytes):
        return str(value)
    digits = value.hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def linked_after(events: Table, links: Table, after: Any) -> Join:
    """The events after position ``after`` joined with their stored links (``… WHERE events.id > after`` goes
    with it). The links' own bound is stated too: without it PostgreSQL's merge join walks the links' index from
    position 1 to ``after`` on every read (70,000 links for a page of 10,000 at the head of a 70,000-event log),
    so each page, and each follower's read at the head, cost the whole log (docs/benchmarks.md)."""
    return events.outerjoin(links, and_(links.c.position == events.c.id, links.c.position > after))


def stored_pages(engine: Engine, service: str, batch_size: int = 10_000, after: int = 0) -> Iterator[list[Any]]:
    """The stored events after ``after`` with their stored links, in log order, a page of the driver's own rows
    at a time:
    ``(position, originator id, version, topic, state, link)``, the id as text on PostgreSQL and as its 16
    stored bytes on SQLite (``shared.logcheck`` formats them), the state as the stored bytes.

    One keyset-paged ``SELECT … LEFT JOIN`` of the events and their links, compiled once and run on the
    driver (no SQLAlchemy result processing, no ``UUID`` or record object per row): reading through the
    library's notifications made verification ~7× slower than hashing, and SQLAlchemy's rows ~4×
    (docs/benchmarks.md).
    """
    events, links, dialect = library_metadata.tables[f"{service}_events"], EVENT_HASH_TABLES[service], engine.dialect
    query = (
        select(
            events.c.id,
            uuid_text(events.c.originator_id, dialect.name),
            events.c.originator_version,
            events.c.topic,
            events.c.state,
            links.c.hash,
        )
        .select_from(linked_after(events, links, bindparam("after")))
        .where(events.c.id > bindparam("after"))
        .order_by(events.c.id)
        .limit(batch_size)
    )
    compiled = query.compile(dialect=dialect)
    postgres = dialect.name == "postgresql"

    def page(after: int) -> list[Any]:
        params = compiled.construct_params({"after": after})
        arguments = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
        with read_only(), engine.connect() as connection:
            driver: Any = connection.connection.driver_connection
            # PostgreSQL's binary protocol sends the stored bytes as they are (text would hex-escape them)
            cursor = driver.cursor(**({"binary": True} if postgres else {}))
            try:
                cursor.execute(compiled.string, arguments)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    if not postgres:
        # SQLite runs in this process: its rows are built holding the GIL, so a reader thread would only
        # contend with the hashing for it (measured slower); pages are read in turn.
        while rows := page(after):
            yield rows
            after = rows[-1][0]
        return
    # The next page is read while the caller hashes this one: the driver waits on the database without
    # the GIL, so reading and hashing overlap instead of adding up.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{service}-chain-reader") as reader:
        upcoming = reader.submit(page, after)
        while rows := upcoming.result():
            upcoming = reader.submit(page, rows[-1][0])
            yield rows


class EnvelopeDecoder:
    """Stored records → envelopes, lifted to the contract's current versions."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self.transcoder = state_transcoder()

    def __call__(self, record: StoredRecord) -> Envelope:
        state: dict[str, Any] = self.transcoder.decode(record.state)
        occurred_at, meta = state.pop("timestamp"), state.pop("meta", None)
        name = event_type_of(record.topic)
        version, data = self.contract.upcast(name, state.pop("class_version", 1), to_jsonable(state))
        return Envelope(
            service=self.contract.service,
            position=record.position,
            hash=record.stored_hash,
            type=name,
            topic=record.topic,
            schema_version=version,
            aggregate_id=UUID(str(record.originator_id)),
            aggregate_version=record.originator_version,
            occurred_at=occurred_at,
            meta=meta,
            data=data,
            state=record.state,
        )


class LogSource(Protocol):
    """Where a log is read from."""

    def head(self) -> int: ...

    def envelopes(self, after: int, limit: int) -> list[Envelope]: ...


class DatabaseLog:
    """A log read from its tables: events and their chain links in one keyset-paged ``SELECT … LEFT JOIN``."""

    def __init__(self, database_url: str, contract: Contract, engine: Engine | None = None):
        self.database_url = database_url
        self.contract = contract
        self.engine = engine or create_engine(database_url)
        self.events = library_metadata.tables[f"{contract.service}_events"]
        self.links = EVENT_HASH_TABLES[contract.service]
        self.decode = EnvelopeDecoder(contract)

    @property
    def name(self) -> str:
        """The service whose log this is (what the transparency publisher names a log by)."""
        return self.contract.service

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only session on the log's database (for the Merkle tree's stored nodes)."""
        with read_only(), Session(self.engine) as session:
            yield session

    def iter_chained_records(self, batch_size: int = 10_000) -> Iterator[StoredRecord]:
        return self.iter_records(batch_size)

    @property
    def channel(self) -> str | None:
        """The NOTIFY channel the library signals on each insert (PostgreSQL only)."""
        return None if is_sqlite(self.database_url) else self.events.name

    def head(self) -> int:
        with read_only(), self.engine.connect() as connection:
            return int(connection.execute(select(func.max(self.events.c.id))).scalar() or 0)

    def records(self, after: int, limit: int, up_to: int | None = None) -> list[StoredRecord]:
        events, links = self.events, self.links
        query = (
            select(events.c.id, events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state)
            .add_columns(links.c.hash)
            .select_from(linked_after(events, links, after))
            .where(events.c.id > after)
            .order_by(events.c.id)
            .limit(limit)
        )
        if up_to is not None:
            query = query.where(events.c.id <= up_to)
        with read_only(), self.engine.connect() as connection:
            return [StoredRecord._make(row) for row in connection.execute(query)]

    def iter_records(self, batch_size: int = 10_000) -> Iterator[StoredRecord]:
        """Every stored event with its stored link, in log order, straight from the tables (nothing decoded)."""
        for rows in self.iter_pages(batch_size):
            for position, originator_id, version, topic, state, stored_hash in rows:
                yield StoredRecord(position, uuid_of_bytes(originator_id), version, topic, state, stored_hash)

    def iter_pages(self, batch_size: int = 10_000) -> Iterator[list[Any]]:
        """Every stored event with its stored link, in log order, a page of the driver's rows at a time
        (``stored_pages``)."""
        return stored_pages(self.engine, self.name, batch_size)

    def iter_frames(self, batch_size: int = 10_000) -> Iterator[Frame]:
        """The log's pages framed for hashing (``shared.logcheck.frame_page``), each as it is read."""
        return map(frame_page, self.iter_pages(batch_size))

    def envelopes(self, after: int, limit: int) -> list[Envelope]:
        return [self.decode(record) for record in self.records(after, limit)]

    def envelopes_at(self, positions: list[int]) -> list[Envelope]:
        """The envelopes at the given positions (e.g. one aggregate's events), in log order."""
        if not positions:
            return []
        events, links = self.events, self.links
        query = (
            select(events.c.id, events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state)
            .add_columns(links.c.hash)
            .select_from(linked_after(events, links, min(positions) - 1))
            .where(events.c.id.in_(positions))
            .order_by(events.c.id)
        )
        with read_only(), self.engine.connect() as connection:
            return [self.decode(StoredRecord._make(row)) for row in connection.execute(query)]

    def positions_of(self, aggregate_id: UUID) -> list[int]:
        """The log positions of one aggregate's events, in version order."""
        query = (
            select(self.events.c.id)
            .where(self.events.c.originator_id == aggregate_id)
            .order_by(self.events.c.originator_version)
        )
        with read_only(), self.engine.connect() as connection:
            return list(connection.execute(query).scalars())


class HttpLog:
    """A log read over its service's HTTP log API, for an upstream run by another organisation."""

    channel = None

    def __init__(self, base_url: str, contract: Contract, token: str, timeout: float = 10.0):
        self.contract = contract
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )
        self.database_url = base_url

    def _page(self, after: int, limit: int) -> dict[str, Any]:
        response = self.client.get("/v1/log", params={"after": after, "limit": limit})
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        return page

    def head(self) -> int:
        return int(self._page(0, 1)["head_position"])

    def envelopes(self, after: int, limit: int) -> list[Envelope]:
        envelopes = [self._lifted(Envelope.from_dict(item)) for item in self._page(after, limit)["items"]]
        if any(envelope.service != self.contract.service for envelope in envelopes):
            raise ValueError(f"{self.client.base_url} does not serve the {self.contract.service} log")
        return envelopes

    def _lifted(self, envelope: Envelope) -> Envelope:
        """The payload at this reader's contract version (the producer may serve an older one)."""
        version, data = self.contract.upcast(envelope.type, envelope.schema_version, envelope.data)
        return dataclasses.replace(envelope, schema_version=version, data=data)


def upstream_log(settings: Any, contract: Contract) -> DatabaseLog | HttpLog:
    """The log of ``contract``'s service as this deployment reaches it: over HTTP when its base URL is configured
    (``AIGOV_<SERVICE>_LOG_URL``, with ``AIGOV_LOG_READER_TOKEN``), else from its database."""
    url = settings.upstream_log_url(contract.service)
    if url:
        if not settings.log_reader_token:
            raise ValueError(
                f"AIGOV_{contract.service.upper()}_LOG_URL needs AIGOV_LOG_READER_TOKEN (an oversight role)"
            )
        return HttpLog(url, contract, settings.log_reader_token)
    return DatabaseLog(settings.upstream_url(contract.service), contract)


def read_all(source: LogSource, batch_size: int = 2_000, up_to: int | None = None) -> Iterator[Envelope]:
    """Every envelope of a log in order (up to position ``up_to``), read page by page."""
    after = 0
    while batch := source.envelopes(after, batch_size):
        for envelope in batch:
            if up_to is not None and envelope.position > up_to:
                return
            yield envelope
        after = batch[-1].position


__all__ = [
    "DatabaseLog",
    "Envelope",
    "EnvelopeDecoder",
    "HttpLog",
    "LogSource",
    "StoredRecord",
    "event_type_of",
    "read_all",
    "upstream_log",
    "state_transcoder",
    "to_jsonable",
]
