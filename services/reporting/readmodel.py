"""Reporting's store: the projection's tables and tracking records, replays as of any moment, checkpoints.

Live answers come from the tables (written by the projection follower); "as of" answers fold the upstream
logs again, read through the library's recorders, up to the moment or positions asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import takewhile
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, IntegrityError
from eventsourcing.utils import Environment
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.registry.contract import REGISTRY
from services.reporting import history, tables
from services.reporting.projection import Projection
from services.risk.contract import RISK
from shared import checkpoints as signing
from shared import logrows
from shared.database import eventsourcing_env, read_only
from shared.export import checkpoint_line, event_line
from shared.hashchain import verify_chain
from shared.logreader import DatabaseLog
from shared.settings import Settings
from shared.timeutil import as_utc
from shared.transparency.exports import tree_checkpoint_line
from shared.transparency.publish import Publisher, log_signer
from shared.transparency.store import TreeReader

UPSTREAMS = ("registry", "risk")
REPLAY_BATCH = 2000


class ReportingStore:
    """Reporting writes no events: only read models, each batch committed with its tracking records."""

    name = "reporting"

    def __init__(self, settings: Settings):
        self.settings = settings
        factory = InfrastructureFactory.construct(Environment(self.name, eventsourcing_env(settings.database_url)))
        self.tracking: SQLAlchemyTrackingRecorder = factory.tracking_recorder()  # type: ignore[assignment]
        self.upstreams: dict[str, DatabaseLog] = {
            contract.service: DatabaseLog(settings.upstream_url(contract.service), contract)
            for contract in (REGISTRY, RISK)
        }
        self.key_path = settings.checkpoint_key_path or Path(settings.var_dir) / "checkpoint-ed25519.pem"

    # -- live state ---------------------------------------------------------------------------------

    def inclusion_proof(self, service: str, position: int) -> dict[str, Any] | None:
        """Proof that the upstream event at ``position`` is in ``service``'s transparency log as it stands now, with
        the root it proves against (None: the log's tree does not hold that position)."""
        reader = TreeReader(service, self.upstreams[service].read_session)
        size = reader.size()
        proof = reader.inclusion(position, size)
        if proof is None:
            return None
        return {**proof.as_dict(), "root_hash": reader.root(size).hex()}

    def positions(self) -> dict[str, int]:
        """The upstream log positions the read models reflect."""
        with read_only():
            return {upstream: self.tracking.max_tracking_id(upstream) or 0 for upstream in UPSTREAMS}

    def load(self) -> Projection:
        """The live projection, from the tables (and the positions committed with them)."""
        state = Projection()
        with read_only(), self.tracking.transaction(commit=False) as session:
            for row in session.execute(select(tables.projects.c.project_id, tables.projects.c.doc)):
                state.projects[str(row.project_id)] = row.doc
            for row in session.execute(
                select(tables.ministries.c.ministry, tables.ministries.c.ministry_id, tables.ministries.c.doc)
            ):
                state.ministries[row.ministry] = row.doc
                state.ministry_codes[str(row.ministry_id)] = row.ministry
            for row in session.execute(select(tables.aggregates)):
                state.aggregates[str(row.aggregate_id)] = str(row.project_id)
        state.positions = self.positions()
        state.take_changes()
        return state

    def persist(self, session: Session, batch: history.Batch) -> None:
        """Write the rows a batch changed and the positions it reached, in the caller's transaction."""
        history.write(session, batch)
        for upstream in UPSTREAMS:
            if batch.state.positions[upstream] > batch.committed[upstream]:
                self.track(session, upstream, batch.committed[upstream], batch.state.positions[upstream])

    def track(self, session: Session, upstream: str, committed: int, position: int) -> None:
        """Move the tracked position from ``committed`` to ``position`` in one statement, or fail.

        Exactly once: the update names the position this batch started from, so if another follower (or an
        earlier run) moved it meanwhile nothing matches and the whole batch rolls back."""
        table = self.tracking.tracking_table
        if committed == 0:
            session.execute(table.insert().values(application_name=upstream, notification_id=position))
            return
        moved = session.execute(
            update(table)
            .where(table.c.application_name == upstream, table.c.notification_id == committed)
            .values(notification_id=position)
        )
        if moved.rowcount != 1:
            raise IntegrityError(f"{upstream} was tracked past {committed} meanwhile: this batch is not applied")

    def clear(self) -> None:
        """Empty every read model and forget the tracked positions (for a rebuild from position zero)."""
        from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder as _Recorder

        assert isinstance(self.tracking, _Recorder)
        with self.tracking.transaction(commit=True) as session:
            for table in (tables.projects, tables.ministries, tables.aggregates, tables.project_events):
                session.execute(delete(table))
            history.clear(session)
            session.execute(delete(self.tracking.tracking_table))

    def rows(self) -> dict[str, list[Any]]:
        """Every read-model row, in a stable order: what a rebuild must reproduce exactly."""
        with read_only(), self.tracking.transaction(commit=False) as session:
            return {
                "projects": [
                    tuple(row)
                    for row in session.execute(select(tables.projects).order_by(tables.projects.c.project_id))
                ],
                "ministries": [
                    tuple(row)
                    for row in session.execute(select(tables.ministries).order_by(tables.ministries.c.ministry))
                ],
                "aggregates": [
                    tuple(row)
                    for row in session.execute(select(tables.aggregates).order_by(tables.aggregates.c.aggregate_id))
                ],
                "project_events": [
                    tuple(row)
                    for row in session.execute(select(tables.project_events).order_by(*tables.project_events.c))
                ],
                **{
                    table.name: [tuple(row) for row in session.execute(select(table).order_by(*table.primary_key))]
                    for table in history.HISTORY_TABLES
                },
            }

    # -- replay ------------------------------------------------------------------------------------------

    def entries(self, service: str, up_to: int | None = None) -> Iterator[dict[str, Any]]:
        app, after = self.upstreams[service], 0
        while batch := logrows.envelopes(app, after, REPLAY_BATCH, up_to):
            yield from batch
            after = batch[-1]["position"]

    def replay(
        self, as_of: datetime | None = None, registry_position: int | None = None, risk_position: int | None = None
    ) -> Projection:
        """The projection from position zero: each log up to the given position and, with ``as_of``, up to the
        longest prefix whose events had all occurred by then (the meaning of "as of", services/reporting/history.py).
        """
        state = Projection()
        limits = {"registry": registry_position, "risk": risk_position}
        for service in UPSTREAMS:
            for entry in self.entries(service, limits[service]):
                if as_of is not None and datetime.fromisoformat(entry["occurred_at"]) > as_of:
                    break
                state.apply(entry)
        return state

    def timeline(self, project_id: UUID, as_of: datetime | None = None) -> list[dict[str, Any]]:
        """Every event about the project from both logs, in causal order (time, each log's own order kept).

        One query for the project's positions, then one per log (per thousand events) for the events."""
        with read_only(), self.tracking.transaction(commit=False) as session:
            rows = session.execute(
                select(tables.project_events.c.service, tables.project_events.c.position).where(
                    tables.project_events.c.project_id == project_id
                )
            ).all()
            limits = {service: history.prefix_at(session, service, as_of) for service in UPSTREAMS} if as_of else {}
        events = []
        for service in UPSTREAMS:
            limit = limits.get(service)
            positions = [n for s, n in rows if s == service and (limit is None or n <= limit)]
            events.extend(logrows.at_positions(self.upstreams[service], positions))
        events.sort(key=lambda entry: (entry["occurred_at"], entry["service"] != "registry", entry["position"]))
        return events

    # -- checkpoints and exports --------------------------------------------------------------------------------

    def signing_key(self) -> Any:
        return signing.load_or_create_private_key(Path(self.key_path))

    def public_key_pem(self) -> tuple[str, str]:
        public = self.signing_key().public_key()
        return signing.public_pem(public), signing.key_id(public)

    def take_checkpoint(self, service: str, up_to: int | None = None) -> signing.Checkpoint:
        """Verify the log's chain (up to ``up_to``) and sign its head: it vouches only for a verified chain."""
        app = self.upstreams[service]
        records = app.iter_records()
        result = verify_chain(records if up_to is None else takewhile(lambda record: record.position <= up_to, records))
        if not result.ok:
            raise ValueError(f"{service} log is broken at position {result.first_bad_position}: {result.problem}")
        checkpoint = signing.sign(
            self.signing_key(), service, result.head_position or 0, result.head_hash, datetime.now(UTC).isoformat()
        )
        with self.tracking.transaction(commit=True) as session:
            session.execute(
                tables.checkpoints.insert().values(
                    service=service,
                    head_position=checkpoint.head_position,
                    head_hash=checkpoint.head_hash,
                    taken_at=datetime.fromisoformat(checkpoint.taken_at),
                    key_id=checkpoint.key_id,
                    signature=checkpoint.signature,
                )
            )
        return checkpoint

    def list_checkpoints(self) -> list[dict[str, Any]]:
        with read_only(), self.tracking.transaction(commit=False) as session:
            rows = session.execute(select(tables.checkpoints).order_by(tables.checkpoints.c.id)).mappings().all()
        return [
            {**{k: v for k, v in row.items() if k != "taken_at"}, "taken_at": as_utc(row["taken_at"]).isoformat()}
            for row in rows
        ]

    def export_lines(self) -> Iterator[str]:
        """Every event of every log, then a checkpoint of exactly the exported head of each log."""
        heads = {service: self.upstreams[service].head() for service in UPSTREAMS}
        exported = dict.fromkeys(UPSTREAMS, 0)
        for service, head in heads.items():
            for record in takewhile(
                lambda record, head=head: record.position <= head, self.upstreams[service].iter_records()
            ):
                exported[service] += 1
                yield event_line(
                    service,
                    record.position,
                    record.originator_id,
                    record.originator_version,
                    record.topic,
                    record.state,
                    record.stored_hash,
                )
        for service in UPSTREAMS:  # the C2SP checkpoint of exactly the exported leaves (shared/transparency)
            publisher = Publisher(self.upstreams[service], log_signer(self.settings, service), [])
            yield tree_checkpoint_line(service, publisher.latest(exported[service]))
        for service in UPSTREAMS:
            yield checkpoint_line(self.take_checkpoint(service, heads[service]))
