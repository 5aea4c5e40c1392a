"""Reporting's history: every version of every document, written with the batch that made it.

Why every version (rather than periodic snapshots plus the events after them): an ``?as_of=`` report asks
for *every* project of a ministry at one moment, filtered and paged; with a version per event and the log
position it began at, that is one indexed query (the latest version at or before the position, per
project), whereas snapshots would need each page's projects folded forward from the log. The price is one
row per event that changes a document, written in one statement per table per batch.

A project document has two parts written by two logs (``registry``: the registry part; ``risk``: risk,
board and incidents), so each part is versioned by its own log's positions, and a document "at positions
(r, k)" is the registry part at r beside the risk part at k.

"As of a moment" means: the longest prefix of each log all of whose events had occurred by then. Each log's
*clock* (the running maximum of its events' ``occurred_at``) is kept per position, so that prefix is one
index probe. When events are written in time order (always, but for commands racing for the log's lock) this
is exactly "every event that had occurred by then"; when they are not, it is a state the live read model
really had, never a mix of a later event without an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import JSON, Text, Uuid, cast, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.registry.contract import takes_effect_at
from services.reporting import tables
from services.reporting.projection import SHEET_EVENTS, Envelope, Projection
from services.reporting.reports import pending_for

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REGISTRY_PART = ("registry",)
RISK_PART = ("risk", "board", "incidents")
PROJECT_EVENT_TYPES = frozenset(
    {"ProjectRegistered", "ProjectAmended", "ProjectStageChanged", "ProcurementRecorded", "ModelChangeNoticed"}
    | {"ProjectPublished"}
    | set(SHEET_EVENTS)
)
MINISTRY_EVENT_TYPES = frozenset({"MinistryEstablished", "ChiefAIOfficerDesignated", "ChiefAIOfficerRevoked"})
HISTORY_TABLES = (
    tables.project_versions,
    tables.ministry_versions,
    tables.log_clock,
    tables.registrations,
    tables.counts,
    tables.usage_rules,
    tables.periodic_submissions,
)
EVERY_MINISTRY = "*"
COPY_FROM = 50  # rows from which PostgreSQL gets a batch by COPY rather than executemany
CountKey = tuple[str, str, str, str]


def micros(moment: str | datetime) -> int:
    """Microseconds since the epoch: exact, and ordered like the moments (what the clock columns hold)."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return (value - EPOCH) // timedelta(microseconds=1)


def part_of(doc: dict[str, Any], service: str) -> dict[str, Any]:
    return {key: doc[key] for key in (REGISTRY_PART if service == "registry" else RISK_PART)}


def dumps(value: Any) -> str:
    """Deterministic JSON text (sorted keys): a rebuild writes exactly the rows the live follower wrote."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass
class Batch:
    """What one batch of both logs changed: the live documents and every version and clock row it made."""

    state: Projection
    committed: dict[str, int] = field(default_factory=dict)  # the positions the batch started from
    before: dict[str, CountKey | None] = field(default_factory=dict)  # each loaded project's count key
    registered: dict[str, int] = field(default_factory=dict)  # projects registered so far, per scope
    registrations: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    ministry_versions: list[dict[str, Any]] = field(default_factory=list)
    clock: list[dict[str, Any]] = field(default_factory=list)
    usage_rules: list[dict[str, Any]] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)


def referenced(entries: dict[str, list[Envelope]]) -> tuple[set[str], set[str]]:
    """Project ids and risk aggregate ids a batch is about: the documents to load before folding it."""
    projects = {e["aggregate_id"] for e in entries.get("registry", []) if e["type"] in PROJECT_EVENT_TYPES}
    aggregates: set[str] = set()
    for entry in entries.get("risk", []):
        if isinstance(entry["data"].get("project_id"), str):
            projects.add(entry["data"]["project_id"])
        aggregates.add(entry["aggregate_id"])
    return projects, aggregates


def load_for(session: Session, entries: dict[str, list[Envelope]], positions: dict[str, int]) -> Projection:
    """A projection holding only what this batch can touch: its projects, their aggregates, the ministries.

    So the follower's memory is bounded by the batch size and the number of ministries, not by the number
    of projects in the read model."""
    state = Projection(positions=dict(positions))
    projects, aggregates = referenced(entries)
    for chunk in _chunks(sorted(aggregates)):
        rows = session.execute(
            select(tables.aggregates.c.aggregate_id, tables.aggregates.c.project_id).where(
                tables.aggregates.c.aggregate_id.in_([UUID(a) for a in chunk])
            )
        )
        for aggregate_id, project_id in rows:
            state.aggregates[str(aggregate_id)] = str(project_id)
            projects.add(str(project_id))
    for chunk in _chunks(sorted(projects)):
        rows = session.execute(
            select(cast(tables.projects.c.doc, Text)).where(tables.projects.c.project_id.in_([UUID(p) for p in chunk]))
        )
        for (doc,) in rows:
            loaded = orjson.loads(doc)  # the document as text, parsed by orjson (several times json's speed)
            state.projects[loaded["project_id"]] = loaded
    for code, ministry_id, doc in session.execute(
        select(tables.ministries.c.ministry, tables.ministries.c.ministry_id, tables.ministries.c.doc)
    ):
        state.ministries[code] = doc
        state.ministry_codes[str(ministry_id)] = code
    state.take_changes()
    return state


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def last_clock(session: Session, service: str) -> int | None:
    clock = tables.log_clock
    return session.execute(
        select(clock.c.clock).where(clock.c.service == service).order_by(clock.c.position.desc()).limit(1)
    ).scalar_one_or_none()


def fold(
    state: Projection,
    entries: dict[str, list[Envelope]],
    clocks: dict[str, int | None],
    registered: dict[str, int] | None = None,
) -> Batch:
    """Fold each log's entries in order, recording the version of each part after each event that made one."""
    batch = Batch(state, committed=dict(state.positions), registered=dict(registered))
    batch.before = {project_id: count_key(doc) for project_id, doc in state.projects.items()}
    for service, batch_entries in entries.items():
        clock = clocks.get(service)
        for entry in batch_entries:
            if entry["position"] <= state.positions.get(service, 0):
                continue  # already folded: a replayed batch never applies twice
            made = len(state.new_project_events)
            state.apply(entry)
            clock = max(clock or 0, micros(entry["occurred_at"]))
            batch.clock.append({"service": service, "position": entry["position"], "clock": clock})
            if len(state.new_project_events) > made:
                batch.versions.append(_version(state, *state.new_project_events[-1]))
            if entry["type"] == "ProjectRegistered":
                _count_registration(batch, entry["data"]["ministry"], entry["position"])
            elif entry["type"] in MINISTRY_EVENT_TYPES:
                code = state.ministry_codes[entry["aggregate_id"]]
                batch.ministry_versions.append(
                    {"ministry": code, "position": entry["position"], "doc": dict(state.ministries[code])}
                )
            elif entry["type"] in MINISTRY_RECORD_TYPES:
                _ministry_record(batch, state.ministry_codes[entry["aggregate_id"]], entry)
    return batch


MINISTRY_RECORD_TYPES = frozenset({"UsageRulesIssued", "PeriodicReportSubmitted"})


def _ministry_record(batch: Batch, code: str, entry: Envelope) -> None:
    """A version of a ministry's usage rules, or a periodic-report submission: one row each, kept for good."""
    data, meta = entry["data"], entry["meta"] or {}
    issued = {
        "ministry": code,
        "position": entry["position"],
        "reason": meta.get("reason"),
    }
    if entry["type"] == "UsageRulesIssued":
        doc = {
            **issued,
            **{key: data[key] for key in ("version", "title", "text", "reference", "content_hash", "effective_from")},
            "issued_at": entry["occurred_at"],
            "issued_by": meta.get("actor_id"),
            "issued_by_name": meta.get("actor_name"),
        }
        takes_effect = micros(takes_effect_at(date.fromisoformat(data["effective_from"])))
        batch.usage_rules.append(
            {"ministry": code, "version": data["version"], "position": entry["position"],
             "takes_effect": takes_effect, "doc": dumps(doc)}
        )  # fmt: skip
        return
    doc = {
        **issued,
        "period": data["period"],
        "content_hash": data["content_hash"],
        "positions": {"registry": data["registry_position"], "risk": data["risk_position"]},
        "as_of": data["as_of"],
        "submitted_at": entry["occurred_at"],
        "submitted_by": meta.get("actor_id"),
        "submitted_by_name": meta.get("actor_name"),
    }
    row = {"period": data["period"], "ministry": code, "position": entry["position"], "doc": dumps(doc)}
    batch.submissions.append(row)


def clocks_after(batch: Batch, before: dict[str, int | None]) -> dict[str, int | None]:
    """Each log's clock at the end of the batch (what the next batch continues from)."""
    clocks = dict(before)
    for row in batch.clock:
        clocks[row["service"]] = row["clock"]
    return clocks


def _count_registration(batch: Batch, ministry: str, position: int) -> None:
    for scope in (EVERY_MINISTRY, ministry):
        batch.registered[scope] = batch.registered.get(scope, 0) + 1
        batch.registrations.append({"scope": scope, "position": position, "count": batch.registered[scope]})


def count_key(doc: dict[str, Any]) -> CountKey | None:
    """Which count a project document adds to (None: not registered, counted nowhere)."""
    registry = doc["registry"]
    if registry is None:
        return None
    return (registry["ministry"], registry["stage"], doc["risk"]["status"], doc["risk"]["classification"] or "")


def count_changes(batch: Batch, changed: set[str]) -> list[dict[str, Any]]:
    """How the batch moved the counts: minus one where a changed project was, plus one where it is now."""
    deltas: dict[CountKey, int] = {}
    for project_id in changed:
        before, after = batch.before.get(project_id), count_key(batch.state.projects[project_id])
        if before == after:
            continue
        if before is not None:
            deltas[before] = deltas.get(before, 0) - 1
        if after is not None:
            deltas[after] = deltas.get(after, 0) + 1
    names = ("ministry", "stage", "risk_status", "classification")
    return [{**dict(zip(names, key, strict=True)), "count": delta} for key, delta in sorted(deltas.items()) if delta]


def registered_so_far(
    session: Session, entries: dict[str, list[Envelope]], known: dict[str, int] | None = None
) -> dict[str, int]:
    """The running registration counts a batch continues, for every scope its registrations touch (those
    ``known`` from the previous batches of this follower are not read again)."""
    scopes = {EVERY_MINISTRY} | {
        e["data"]["ministry"] for e in entries.get("registry", []) if e["type"] == "ProjectRegistered"
    }
    registrations = tables.registrations
    counts = dict(known or {})
    for scope in sorted(scopes - counts.keys()):
        counts[scope] = (
            session.execute(
                select(registrations.c.count)
                .where(registrations.c.scope == scope)
                .order_by(registrations.c.position.desc())
                .limit(1)
            ).scalar_one_or_none()
            or 0
        )
    return counts


def _version(state: Projection, project_id: str, service: str, position: int) -> dict[str, Any]:
    doc = state.projects[project_id]
    registry, risk = doc["registry"] or {}, doc["risk"]
    return {
        "project_id": project_id,  # text: the driver's converter writes it as the column's type wants
        "service": service,
        "position": position,
        "stage": registry.get("stage") if service == "registry" else None,
        "risk_status": risk["status"] if service == "risk" else None,
        "classification": risk["classification"] if service == "risk" else None,
        "doc": dumps(part_of(doc, service)),
    }


def live_row(doc: dict[str, Any]) -> dict[str, Any]:
    """The live row of a project document: the document and the columns reports filter and order on."""
    registry = doc["registry"]
    return {
        "project_id": doc["project_id"],
        "ministry": registry["ministry"] if registry else None,
        "stage": registry["stage"] if registry else None,
        "risk_status": doc["risk"]["status"],
        "doc": doc,
        "registered_at": micros(registry["registered_at"]) if registry else None,
        "classification": doc["risk"]["classification"],
        "pending": len(pending_for(doc)) if registry else 0,
        **published_columns(registry),
    }


def published_columns(registry: dict[str, Any] | None) -> dict[str, Any]:
    """The latest publication's number and the stage it published (none: the project is not in the register)."""
    publications = (registry or {}).get("publications") or []
    if not publications:
        return {"published": None, "published_stage": None}
    return {"published": publications[-1]["publication"], "published_stage": publications[-1]["record"]["stage"]}


def upsert(session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """All rows in one ``INSERT … ON CONFLICT DO UPDATE``: one statement per table per batch."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in rows[0] if name not in keys}
    )
    bulk(session, statement, rows)


def append(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """New rows only: ``COPY`` on PostgreSQL (several times an INSERT's rate for a batch), else ``bulk``."""
    if len(rows) < COPY_FROM or session.get_bind().dialect.name != "postgresql":
        bulk(session, table.insert(), rows)  # a live batch of a few rows: COPY's own round trips would cost more
        return
    names = list(rows[0])
    converters = [(index, _converter(table.c[name].type, "postgresql")) for index, name in enumerate(names)]
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            values = [row[name] for name in names]
            for index, convert in converters:
                if convert is not None:
                    values[index] = convert(values[index])
            copy.write_row(values)


def add_counts(session: Session, deltas: list[dict[str, Any]]) -> None:
    """Add each delta to its count (a new count starts at the delta): one statement."""
    if not deltas:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(tables.counts)
    statement = statement.on_conflict_do_update(
        index_elements=["ministry", "stage", "risk_status", "classification"],
        set_={"count": tables.counts.c.count + statement.excluded["count"]},
    )
    bulk(session, statement, deltas)
    if any(delta["count"] < 0 for delta in deltas):
        # Only counts above zero are kept, so the table is the same whatever batches the projects were folded in.
        session.execute(delete(tables.counts).where(tables.counts.c.count == 0))


def bulk(session: Session, statement: Any, rows: list[dict[str, Any]]) -> None:
    """Run one statement for many rows on the driver (``executemany``), compiled once.

    SQLAlchemy's own executemany builds and processes parameters per row in Python, which cost a rebuild
    more than the database's work; here each value is converted once by the column's type (ids and JSON)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = list(rows[0])
    compiled = statement.compile(dialect=dialect, column_keys=names)
    converters = {name: _converter(statement.table.c[name].type, dialect.name) for name in names}
    order = list(compiled.positiontup or ()) if compiled.positional else names
    for name in {name for name in order if converters[name] is not None}:
        convert = converters[name]
        for row in rows:
            row[name] = convert(row[name])
    if compiled.positional:
        session.connection().exec_driver_sql(compiled.string, [tuple(map(row.__getitem__, order)) for row in rows])
    else:
        session.connection().exec_driver_sql(compiled.string, rows)


def _converter(kind: Any, dialect: str) -> Any:
    """How a column's type wants a value on the driver: JSON as text, UUIDs as hex on SQLite (as SQLAlchemy does)."""
    if isinstance(kind, JSON):
        return lambda value: orjson.dumps(value).decode()
    if isinstance(kind, Uuid):
        return _uuid_hex if dialect != "postgresql" else str
    return None


def _uuid_hex(value: UUID | str) -> str:
    return value.hex if isinstance(value, UUID) else value.replace("-", "")


def write(session: Session, batch: Batch) -> None:
    """Write what the batch changed, each table in one statement, in the caller's transaction."""
    state = batch.state
    projects, ministries, aggregates, new_events = state.take_changes()
    add_counts(session, count_changes(batch, projects))
    upsert(session, tables.projects, [live_row(state.projects[p]) for p in sorted(projects)], ["project_id"])
    docs = state.ministries
    ministry_rows = [
        {"ministry": code, "ministry_id": docs[code]["ministry_id"], "doc": docs[code]} for code in sorted(ministries)
    ]
    upsert(session, tables.ministries, ministry_rows, ["ministry"])
    inserts = (
        (tables.aggregates, [{"aggregate_id": a, "project_id": state.aggregates[a]} for a in aggregates]),
        (tables.project_events, [{"project_id": p, "service": s, "position": n} for p, s, n in new_events]),
        (tables.project_versions, batch.versions),
        (tables.ministry_versions, batch.ministry_versions),
        (tables.log_clock, batch.clock),
        (tables.registrations, batch.registrations),
        (tables.usage_rules, batch.usage_rules),
        (tables.periodic_submissions, batch.submissions),
    )
    for table, rows in inserts:
        append(session, table, rows)


def clear(session: Session) -> None:
    for table in HISTORY_TABLES:
        session.execute(delete(table))


# -- reading the history ------------------------------------------------------------------------------------


def prefix_at(session: Session, service: str, moment: datetime) -> int:
    """The last position of the longest prefix of the log whose events had all occurred by ``moment``."""
    clock = tables.log_clock
    position = session.execute(
        select(clock.c.position)
        .where(clock.c.service == service, clock.c.clock <= micros(moment))
        .order_by(clock.c.clock.desc(), clock.c.position.desc())
        .limit(1)
    ).scalar_one_or_none()
    return position or 0


def position_at_or_before(session: Session, service: str, position: int) -> int:
    """The last event at or before ``position`` (positions may have gaps where a transaction rolled back)."""
    clock = tables.log_clock
    found = session.execute(
        select(func.max(clock.c.position)).where(clock.c.service == service, clock.c.position <= position)
    ).scalar_one_or_none()
    return found or 0


def part_at(session: Session, project_id: str, service: str, position: int) -> dict[str, Any] | None:
    versions = tables.project_versions
    doc = session.execute(
        select(versions.c.doc)
        .where(
            versions.c.project_id == UUID(project_id), versions.c.service == service, versions.c.position <= position
        )
        .order_by(versions.c.position.desc())
        .limit(1)
    ).scalar_one_or_none()
    return orjson.loads(doc) if doc is not None else None


def parts_at(session: Session, project_ids: list[UUID], service: str, position: int) -> dict[str, dict[str, Any]]:
    """The given projects' ``service`` parts as they stood at ``position``: one query, an index probe each."""
    versions = tables.project_versions
    inner = versions.alias("earlier")
    latest = (
        select(func.max(inner.c.position))
        .where(inner.c.project_id == versions.c.project_id, inner.c.service == service, inner.c.position <= position)
        .scalar_subquery()
    )
    rows = session.execute(
        select(versions.c.project_id, versions.c.doc).where(
            versions.c.service == service, versions.c.project_id.in_(project_ids), versions.c.position == latest
        )
    )
    return {str(project_id): orjson.loads(doc) for project_id, doc in rows}


def ministries_at(session: Session, position: int) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every ministry document as it stood at a registry position (ministries are few; their versions fewer)."""
    docs: dict[str, dict[str, Any]] = {}
    versions = tables.ministry_versions
    for code, doc in session.execute(
        select(versions.c.ministry, versions.c.doc).where(versions.c.position <= position).order_by(versions.c.position)
    ):
        docs[code] = doc
    return docs, {doc["ministry_id"]: code for code, doc in docs.items()}


def registered_at_position(session: Session, scope: str, position: int) -> int:
    """How many projects were registered in ``scope`` up to a registry position: one index probe."""
    registrations = tables.registrations
    return (
        session.execute(
            select(registrations.c.count)
            .where(registrations.c.scope == scope, registrations.c.position <= position)
            .order_by(registrations.c.position.desc())
            .limit(1)
        ).scalar_one_or_none()
        or 0
    )


def live_count(session: Session, ministry: str | None, stage: str | None, risk: str | None, high: bool) -> int:
    """Registered projects now, by the kept counts (a table of a few hundred rows, not of every project)."""
    counts = tables.counts
    conditions = []
    for column, value in ((counts.c.ministry, ministry), (counts.c.stage, stage), (counts.c.risk_status, risk)):
        if value:
            conditions.append(column == value)
    if high:
        conditions.append(counts.c.classification == "high")
    return session.execute(select(func.coalesce(func.sum(counts.c.count), 0)).where(*conditions)).scalar_one()
