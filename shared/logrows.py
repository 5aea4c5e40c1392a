"""A log's stored rows as JSON envelopes, read straight from the stored JSON.

Part of the generic log reader (``shared.logreader``), on a ``DatabaseLog`` and its contract. Why: the envelope
the reporting projection folds (``Envelope.as_dict()``) used to be made by decoding each
stored event into a domain object (the library's mapper) and encoding it back into JSON values; on a rebuild
that round trip cost more than reading the rows (docs/benchmarks.md). Here the stored state is parsed once
with orjson and only the library's transcoded values (``{"_type_": …, "_data_": …}``) are turned into the
JSON values ``LogEntry.as_dict()`` gives for them, so the envelope is the same, byte for byte once dumped.

An event whose class has a newer schema version than the stored one (upcasters), or that holds a value
with a transcoding not handled here, takes the library's decoding path instead, so nothing is ever guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import select

from shared.contracts import Contract
from shared.hashchain import ChainedRecord
from shared.logreader import DatabaseLog, event_type_of, linked_after, uuid_of_bytes, uuid_text

Envelope = dict[str, Any]
_MARK = b'"_type_"'


class NotPlain(Exception):
    """The stored state needs the library's own decoding (an upcast or an unknown transcoding)."""


@dataclass(frozen=True)
class EventClass:
    """What the envelope needs of an event's class: its name, schema version, and whether it may be upcast."""

    name: str
    version: int


@lru_cache(maxsize=1024)
def _event_class(contract: Contract, topic: str) -> EventClass:
    """The event type and its current schema version, from the producer's published contract (not its classes)."""
    name = event_type_of(topic)
    return EventClass(name, contract.events[name].version if name in contract else 1)


def _log(source: Any) -> DatabaseLog:
    """A service's log: a ``DatabaseLog``, or the service's own application (``AuditedApplication.log``)."""
    log: DatabaseLog = getattr(source, "log", source)
    return log


def _plain(name: str, data: Any) -> Any:
    """The JSON value ``to_jsonable`` gives for a value the library stored with transcoding ``name``."""
    if name == "uuid_hex":
        return str(UUID(hex=data))
    if name == "datetime_iso" or name == "event_meta":
        return data
    if name == "decimal_str":
        return Decimal(data)
    raise NotPlain(name)


def untranscode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return _plain(value["_type_"], value["_data_"])
        return {key: untranscode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [untranscode(item) for item in value]
    return value


def envelope(
    log: DatabaseLog, position: int, originator_id: Any, originator_version: int, topic: str, state: bytes, hash_: Any
) -> Envelope:
    """The envelope of one stored event, as ``Envelope.as_dict()`` gives it; ``NotPlain`` when it cannot."""
    service = log.name
    kind = _event_class(log.contract, topic)
    body = orjson.loads(state)
    if kind.version != 1 or "class_version" in body:
        raise NotPlain("upcast")
    timestamp, meta = body.pop("timestamp"), body.pop("meta", None)
    if state.count(_MARK) > 2:  # transcoded values besides the timestamp and the metadata
        body = untranscode(body)
    return {
        "service": service,
        "position": position,
        "hash": hash_,
        "type": kind.name,
        "topic": topic,
        "schema_version": 1,
        "aggregate_id": originator_id if isinstance(originator_id, str) else str(originator_id),
        "aggregate_version": originator_version,
        "occurred_at": _plain(timestamp["_type_"], timestamp["_data_"]),
        "meta": meta["_data_"] if meta else None,
        "data": body,
    }


def decoded(log: DatabaseLog, row: Any) -> Envelope:
    """The generic reader's path (transcoder and the contract's upcasters), for events the plain path leaves alone."""
    return log.decode(ChainedRecord(row[0], UUID(row[1]), row[2], row[3], row[4], row[5])).as_dict()


def _select(log: DatabaseLog, after: int = 0) -> Any:
    """The stored rows after ``after`` and their links; the id as text or bytes (no ``UUID`` object per row)."""
    events, links = log.events, log.links
    dialect = log.engine.dialect.name
    columns = (events.c.id, uuid_text(events.c.originator_id, dialect), events.c.originator_version, events.c.topic)
    return (
        select(*columns, events.c.state, links.c.hash)
        .select_from(linked_after(events, links, after))
        .where(events.c.id > after)
    )


def envelopes(source: Any, after: int = 0, limit: int = 1000, up_to: int | None = None) -> list[Envelope]:
    """Events after position ``after`` (to ``up_to``), in log order, with their chain links: one query."""
    app = _log(source)
    events = app.events
    query = _select(app, after).order_by(events.c.id).limit(limit)
    if up_to is not None:
        query = query.where(events.c.id <= up_to)
    return [_one(app, row) for row in fetch(app, query)]


def at_positions(source: Any, positions: list[int]) -> list[Envelope]:
    """The events at the given positions (any order in, log order out), a thousand per query."""
    app = _log(source)
    events = app.events
    found: list[Envelope] = []
    ordered = sorted(positions)
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        query = _select(app, chunk[0] - 1).where(events.c.id.in_(chunk)).order_by(events.c.id)
        found.extend(_one(app, row) for row in fetch(app, query))
    return found


def fetch(app: DatabaseLog, query: Any) -> list[tuple[Any, ...]]:
    """Rows of a query whose parameters are all integers, straight from the driver: no SQLAlchemy row
    processing, and on PostgreSQL the binary protocol (stored bytes as they are, not hex-escaped text)."""
    engine = app.engine
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with app.read_session() as session:
        driver = session.connection().connection.driver_connection
        cursor = driver.cursor(**({"binary": True} if engine.dialect.name == "postgresql" else {}))
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()


def _one(app: DatabaseLog, row: Any) -> Envelope:
    row = (row[0], uuid_of_bytes(row[1]), *row[2:])
    try:
        return envelope(app, *row)
    except NotPlain:
        return decoded(app, row)


def iter_envelopes(app: Any, after: int = 0, batch: int = 2000) -> Iterator[Envelope]:
    """Every event after ``after``, page by page."""
    while page := envelopes(app, after, batch):
        yield from page
        after = page[-1]["position"]
