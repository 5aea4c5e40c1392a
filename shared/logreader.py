"""Reading any service's log as envelopes, knowing nothing of that service but its published contract.

Two sources serve the same envelopes: the log's tables in its database (the default; PostgreSQL wakes idle
readers with LISTEN/NOTIFY, see ``shared.wakeup``) and the service's HTTP log API (``GET /v1/log``), for an
upstream run by another organisation. Stored states are decoded with the library's JSON transcoder and
aigov's transcodings only, never by resolving the producer's classes, and lifted to the contract's current
schema version by its upcasters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import httpx
import psycopg
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from psycopg import pq
from psycopg.adapt import Transformer
from sqlalchemy import LargeBinary, String, Table, and_, bindparam, cast, func, select, type_coerce
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Join, Select

from shared import logcheck
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
    return logcheck.uuid_text(value) if isinstance(value, bytes) else str(value)


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
        .limit(bindparam("limit"))
    )
    if dialect.name == "postgresql":
        return _postgres_pages(engine, query, service, batch_size, after)
    return _sqlite_pages(engine, query, batch_size, after)


def _sqlite_pages(engine: Engine, query: Select[Any], batch_size: int, after: int) -> Iterator[list[Any]]:
    """SQLite runs in this process and releases the GIL for every row it steps to, so a reader thread would
    wait for the hashing thread at each row (measured slower): pages are read in turn."""
    compiled = query.compile(dialect=engine.dialect)
    while True:
        params = compiled.construct_params({"after": after, "limit": batch_size})
        with read_only(), engine.connect() as connection:
            driver: Any = connection.connection.driver_connection
            arguments = tuple(params[name] for name in compiled.positiontup or ())
            rows = driver.execute(compiled.string, arguments).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _postgres_pages(
    engine: Engine, query: Select[Any], service: str, batch_size: int, after: int
) -> Iterator[list[Any]]:
    """The pages read by a thread of their own, up to ``READ_AHEAD`` ahead of the caller, so that reading and
    hashing overlap instead of adding up.

    Each page is one libpq call (``PQexecParams``, psycopg's ``PGconn.exec_params``) that sends the query,
    waits, receives and parses the whole result without the GIL; only building the rows (psycopg's compiled
    ``Transformer``) holds it. A psycopg cursor instead returns to Python after every buffer it receives, and
    each return waits for the GIL the hashing thread holds (up to the 5 ms switch interval): the hashing
    waited ~20 ms for every page of 10,000 rows, ~3 ms this way (docs/benchmarks.md). The stored bytes come in
    the binary protocol as they are (text would hex-escape them). Each page is its own statement, so no
    transaction stays open however long the caller takes.
    """
    compiled = query.compile(dialect=PGDialect_psycopg(paramstyle="numeric_dollar"))  # type: ignore[no-untyped-call]
    statement = compiled.string.encode()

    def page(driver: Any, after: int, limit: int) -> list[Any]:
        params = compiled.construct_params({"after": after, "limit": limit})
        arguments = [str(params[name]).encode() for name in compiled.positiontup or ()]
        result = driver.pgconn.exec_params(statement, arguments, result_format=pq.Format.BINARY)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
        rows = Transformer(driver)
        rows.set_pgresult(result)
        return rows.load_rows(0, result.ntuples, tuple)

    pages: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=READ_AHEAD)
    stopped = threading.Event()

    def read() -> None:
        try:
            with engine.connect() as connection:
                driver: Any = connection.connection.driver_connection
                position = after
                for limit in growing_pages(batch_size):
                    rows = page(driver, position, limit)
                    pages.put(rows)
                    if not rows or stopped.is_set():
                        return
                    position = rows[-1][0]
        except BaseException as error:  # raised again in the caller's thread
            pages.put(error)

    reader = threading.Thread(target=read, name=f"{service}-log-reader", daemon=True)
    reader.start()
    try:
        while rows := _next_page(pages):
            yield rows
    finally:
        stopped.set()
        while reader.is_alive():  # a caller that stops early: free the reader blocked on a full queue
            with contextlib.suppress(queue.Empty):
                pages.get_nowait()
            reader.join(timeout=0.01)


def _next_page(pages: queue.Queue[list[Any] | BaseException]) -> list[Any]:
    item = pages.get()
    if isinstance(item, BaseException):
        raise item
    return item


#: Pages the reader may have read before the caller asks for them: enough that a short stall on either side
#: does not stop the other, few enough to keep memory small (10,000 rows are ~6 MB).
READ_AHEAD = 2
#: The first page is read while nothing is being hashed: ~8 ms at 1,000 rows against ~40 ms at 10,000.
FIRST_PAGE = 1_000


def growing_pages(largest: int) -> Iterator[int]:
    """Page sizes doubling from ``FIRST_PAGE`` to ``largest``, so hashing starts early and most pages are
    large (each read has a fixed cost)."""
    size = min(FIRST_PAGE, largest)
    while True:
        yield size
        size = min(largest, size * 2)


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
