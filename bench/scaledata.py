"""Logs of a government's size, made fast: 10 events per project, 7 in the registry log and 3 in the risk log.

Each kind of event is made once by the real domain model (``Project``, ``ProjectRisk``) and encoded by the
library's mapper; every project then gets copies of those stored states with its own ids and times, its
positions, and the hash chain computed by ``shared.hashchain`` exactly as the recorder does. The rows are
written in bulk (``COPY`` on PostgreSQL, one ``executemany`` per chunk on SQLite) straight into the event and
link tables: the log is byte-for-byte what the services would have written, made ~50× faster than through
commands. One project in ten is classified high (the high-risk register is the public register measured).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, StoredEvent, UUIDAsHex
from sqlalchemy.orm import Session

from services.registry.domain import Project
from services.risk.domain import Classification, ProjectRisk
from shared.database import create_engine
from shared.hashchain import GENESIS_HASH, canonical_bytes, link
from shared.meta import EventMeta, EventMetaAsDict
from shared.transparency.store import append_leaves

REGISTRY_EVENTS_PER_PROJECT = 7  # registration and six amendments
RISK_EVENTS_PER_PROJECT = 3  # evaluation due, assessment started, classified
EVENTS_PER_PROJECT = REGISTRY_EVENTS_PER_PROJECT + RISK_EVENTS_PER_PROJECT
HIGH_RISK_EVERY = 10
STEP = timedelta(microseconds=10)  # 1,100,000 events span 11 s, all after the ministry was established
TIME_MARK = "2000-01-01T00:00:00.000001+00:00"
PROJECT_MARK = uuid.UUID("00000000-0000-4000-8000-00000000abcd")
CHUNK = 20_000


@dataclass(frozen=True)
class Template:
    """One stored event with the marks where a copy puts its own time and project id."""

    topic: str
    state: bytes
    aggregate: str  # "project" or "risk": which id the row's originator_id is


def _meta(ministry: str) -> EventMeta:
    return EventMeta("bench-planner", "Bench Planner", "planner", ministry, None, "bench")


def offline_mapper() -> Mapper[uuid.UUID]:
    """The library's mapper with aigov's transcodings, as the services encode their events (no database)."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr(), EventMetaAsDict()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def templates(ministry: str, details: dict[str, Any]) -> tuple[list[Template], dict[bool, list[Template]]]:
    """The registry part of a project's life and its risk part (high or not), from the real domain model."""
    mapper = offline_mapper()
    project = Project(ministry=ministry, details=details, meta=_meta(ministry))
    for number in range(REGISTRY_EVENTS_PER_PROJECT - 1):
        project.amend({"owner": f"Office {number}"}, _meta(ministry))
    registry_part = [_template(mapper, event, "project") for event in project.collect_events()]
    risk_parts: dict[bool, list[Template]] = {}
    for high in (False, True):
        risk = ProjectRisk(project_id=PROJECT_MARK, ministry=ministry, cause="registered", meta=_meta(ministry))
        assessment = uuid.uuid4()
        risk.start_assessment(assessment, _meta(ministry))
        risk.record_classification(
            assessment,
            Classification.high if high else Classification.not_high,
            datetime(2030, 1, 1, tzinfo=UTC),
            1,
            _meta(ministry),
        )
        risk_parts[high] = [_template(mapper, event, "risk") for event in risk.collect_events()]
    return registry_part, risk_parts


def _template(mapper: Any, event: Any, aggregate: str) -> Template:
    stored = mapper.to_stored_event(event)
    state = stored.state.replace(event.timestamp.isoformat().encode(), TIME_MARK.encode())
    return Template(stored.topic, state.replace(PROJECT_MARK.hex.encode(), b"{project}"), aggregate)


@dataclass
class LogWriter:
    """Appends rows to one log, chaining them; PostgreSQL by COPY, SQLite by executemany."""

    service: str
    position: int = 0
    previous: str = GENESIS_HASH

    def rows(self, stored: list[StoredEvent]) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]], list[bytes]]:
        """The event rows, their chain links and their Merkle leaves (canonical bytes), in log order."""
        events, links, leaves = [], [], []
        for event in stored:
            self.position += 1
            leaf = canonical_bytes(
                self.position, event.originator_id, event.originator_version, event.topic, event.state
            )
            self.previous = link(self.previous, leaf)
            events.append((self.position, event.originator_id, event.originator_version, event.topic, event.state))
            links.append((self.position, self.previous))
            leaves.append(leaf)
        return events, links, leaves


def _copy(connection: Any, service: str, events: list[tuple[Any, ...]], links: list[tuple[int, str]]) -> None:
    cursor = connection.connection.dbapi_connection.cursor()
    columns = "id, originator_id, originator_version, topic, state"
    with cursor.copy(f"COPY {service}_events ({columns}) FROM STDIN") as copy:
        for row in events:
            copy.write_row(row)
    with cursor.copy(f"COPY {service}_event_hashes (position, hash) FROM STDIN") as copy:
        for row in links:
            copy.write_row(row)


def _insert_many(connection: Any, service: str, events: list[tuple[Any, ...]], links: list[tuple[int, str]]) -> None:
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.executemany(
        f"INSERT INTO {service}_events (id, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
        [(p, o.bytes, v, t, s) for p, o, v, t, s in events],
    )
    cursor.executemany(f"INSERT INTO {service}_event_hashes (position, hash) VALUES (?, ?)", links)


def make_log(url: str, ministry: str, projects: int, details: dict[str, Any], tree: bool = False) -> dict[str, Any]:
    """Append ``projects`` projects' lives to the (empty) registry and risk logs; say how long it took. ``tree``:
    also grow the Merkle tree as the recorder does (what an export's checkpoint needs; 5-8× the time)."""
    started = time.perf_counter()
    registry_part, risk_parts = templates(ministry, details)
    writers = {service: LogWriter(service, *_head(url, service)) for service in ("registry", "risk")}
    engine = create_engine(url)
    write = _copy if engine.dialect.name == "postgresql" else _insert_many
    begin = datetime.now(UTC)  # after the ministry's establishment: each log's times rise with its positions
    clock = begin
    for first in range(0, projects, CHUNK // EVENTS_PER_PROJECT):
        stored: dict[str, list[StoredEvent]] = {"registry": [], "risk": []}
        for number in range(first, min(projects, first + CHUNK // EVENTS_PER_PROJECT)):
            project_id, risk_id = uuid.uuid4(), uuid.uuid4()
            risk_part = risk_parts[number % HIGH_RISK_EVERY == 0]
            for service, part, originator in (("registry", registry_part, project_id), ("risk", risk_part, risk_id)):
                for version, template in enumerate(part, start=1):
                    clock += STEP
                    state = template.state.replace(TIME_MARK.encode(), clock.isoformat().encode()).replace(
                        b"{project}", project_id.hex.encode()
                    )
                    stored[service].append(StoredEvent(originator, version, template.topic, state))
        with engine.begin() as connection:
            for service, events in stored.items():
                rows, links, leaves = writers[service].rows(events)
                write(connection, service, rows, links)
                if tree:  # the Merkle tree the recorder grows in the same transaction (exports carry its checkpoint)
                    append_leaves(Session(bind=connection), service, [row[0] for row in rows], leaves)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for service in writers:
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{service}_events', 'id'), {writers[service].position})"
                )
    engine.dispose()
    return {
        "projects": projects,
        "events": projects * EVENTS_PER_PROJECT,
        "seconds": round(time.perf_counter() - started, 2),
        "first_moment": begin.isoformat(),
        "last_moment": clock.isoformat(),
    }


def _head(url: str, service: str) -> tuple[int, str]:
    """Where a log ends (the ministry was established through the application): position and link."""
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            f"SELECT position, hash FROM {service}_event_hashes ORDER BY position DESC LIMIT 1"
        ).first()
    engine.dispose()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)
