"""The base of each service's ``eventsourcing`` application: its own hash-chained log, readable by others.

Reading is through the library's notification log (``select_notifications``); the hash links come from the
``<service>_event_hashes`` table written in the same transaction as the events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, ClassVar
from uuid import UUID

import sqlalchemy.exc
from eventsourcing.application import Application, Recording
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError
from eventsourcing_sqlalchemy.datastore import transactions
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.contracts import Contract
from shared.database import eventsourcing_env, read_only
from shared.groupcommit import GroupCommit, QueuedSave
from shared.hashchain import ChainedRecord, VerificationResult
from shared.logcheck import LogCheck, check_frames
from shared.logreader import DatabaseLog, Envelope
from shared.meta import EventMetaAsDict
from shared.positions import note_written
from shared.schema import EVENT_HASH_TABLES
from shared.transparency.audit import TrustedHead

#: Writes a service's query index from the events one save recorded (and the aggregates saved, by id), in the
#: same transaction.
Indexer = Callable[[Session, Sequence[Recording[UUID]], Mapping[UUID, Any]], None]


#: Checks, under the log's write lock and before the save commits, that what a command rested on but does not
#: change is still as it read it; raises ``ConcurrentChange`` otherwise.
Guard = Callable[[Session], None]


class ConcurrentChange(IntegrityError):
    """Something a command rested on changed between its reading and its save (answered 409, as a concurrent
    change of an aggregate it saves): nothing of the command is recorded."""


def in_transaction() -> bool:
    """Whether this thread is inside a transaction of the library's datastore (a command that reads and saves in
    one transaction, a follower's batch): a save there belongs to it."""
    return transactions.get(None) is not None


class AuditedApplication(Application[UUID]):
    """An ``eventsourcing`` application whose log is hash-chained and whose events carry ``EventMeta``."""

    def __init__(self, database_url: str, env: dict[str, str] | None = None):
        self.database_url = database_url
        super().__init__(env={**eventsourcing_env(database_url), **(env or {})})

    #: Called with the type names of the events each save recorded (the metrics hook of the web layer).
    on_recorded: Any = None

    #: The service's published contract: what its log's events are, for every reader (its own API included).
    contract: ClassVar[Contract]

    #: The persistence side's query index, kept in the transaction that records the events (None: no index).
    indexer: Indexer | None = None

    #: Concurrent saves recorded together (``shared.groupcommit``); None records each save in its own transaction.
    group_commit: GroupCommit | None = None

    #: Called with the number of saves each group commit recorded (the metrics hook of the web layer).
    on_batch: Any = None

    def enable_group_commit(self) -> None:
        self.group_commit = GroupCommit(self._record_batch, lambda size: self.on_batch and self.on_batch(size))

    def save(self, *objs: Any, guard: Guard | None = None, **kwargs: Any) -> Any:
        """Record the events and, in the same transaction, the query index rows they change.

        ``guard`` runs after the events are inserted (so under the write lock that serialises this log's writers:
        ``LOCK TABLE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and before the index rows are written, so it
        reads what was recorded before this save, never this one's index changes; if it raises, nothing of this
        save is recorded. A save made inside a transaction the command opened is recorded in it; any other goes
        through the group commit when it is on."""
        queued = QueuedSave(objs, kwargs, guard)
        if self.group_commit is None or in_transaction():
            self._record_batch([queued])
            recordings = queued.outcome()
        else:
            recordings = self.group_commit.save(queued)
        if recordings:  # the request's Aigov-Position names the last position it recorded
            note_written(self.name, max(recording.notification.id for recording in recordings))
        if self.on_recorded is not None:
            self.on_recorded([type(recording.domain_event).__name__ for recording in recordings])
        return recordings

    def _record_batch(self, batch: Sequence[QueuedSave]) -> None:
        """Saves in one transaction, in order; with more than one, each in its own savepoint, so that one refused
        (a concurrent change, its guard) is answered with its error while the others are recorded. A failure of
        the database itself (a lost connection) fails the batch: nothing is recorded, every save gets the error
        (a 503 for each command, as without group commit)."""
        with self.transaction() as session:
            if len(batch) == 1:
                batch[0].recordings = self._record_save(session, batch[0])
                return
            for queued in batch:
                try:
                    with session.begin_nested():
                        queued.recordings = self._record_save(session, queued)
                except IntegrityError as error:  # its guard, or a concurrent change found by the library
                    queued.error = error
                except sqlalchemy.exc.IntegrityError as error:  # another save took its aggregate's version
                    queued.error = IntegrityError(error)
                except (sqlalchemy.exc.SQLAlchemyError, PersistenceError):
                    raise  # the connection or the transaction failed: the batch fails as a whole, each save told
                except Exception as error:  # noqa: BLE001 - a refusal of this command: answered, the batch goes on
                    queued.error = error

    def _record_save(self, session: Session, queued: QueuedSave) -> list[Recording[UUID]]:
        recordings = super().save(*queued.objs, **queued.kwargs)
        if queued.guard is not None:
            queued.guard(session)
        if self.indexer is not None:
            self.indexer(session, recordings, {obj.id: obj for obj in queued.objs if hasattr(obj, "id")})
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EventMetaAsDict())

    def stored_version(self, session: Session, aggregate_id: UUID) -> int | None:
        """The version of an aggregate as the log holds it now (its last event's), in ``session``'s transaction."""
        events = self.log.events
        query = select(func.max(events.c.originator_version)).where(events.c.originator_id == aggregate_id)
        version: int | None = session.execute(query).scalar()
        return version

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One database transaction for everything done inside: events, their hashes, indexes, tracking."""
        with self.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Any]:
        """A transaction that only reads (deferred on SQLite: it never waits for the log's writers)."""
        with read_only(), self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            yield session

    @cached_property
    def log(self) -> DatabaseLog:
        """This service's own log, read as any other reader reads it (through the contract)."""
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        return DatabaseLog(self.database_url, self.contract, engine=engine)

    def head_position(self) -> int:
        return self.log.head()

    def read_log(self, after: int = 0, limit: int = 100) -> list[Envelope]:
        """Events after position ``after``, in log order, each with its chain link."""
        return self.log.envelopes(after, limit)

    def entries_of(self, aggregate_id: UUID) -> list[Envelope]:
        """One aggregate's events as they sit in the log, with positions and chain links."""
        return self.log.envelopes_at(self.log.positions_of(aggregate_id))

    def iter_chained_records(self, batch_size: int = 10_000) -> Iterator[ChainedRecord]:
        """Every stored event with its stored link, straight from the tables (nothing decoded)."""
        return self.log.iter_records(batch_size)

    def verify_log(self) -> VerificationResult:
        """Walk the whole log and report ``ok`` or the first position whose bytes or link do not match."""
        return self.check_log(None).chain

    def check_log(self, trusted: list[TrustedHead] | None) -> LogCheck:
        """One pass over the log (``shared.logcheck``): the chain, and with ``trusted`` the Merkle tree against
        those checkpoints too (``aigov log verify``), each row's canonical bytes built once for both."""
        checked = check_frames(self.log.iter_frames(), trusted)
        result = checked.chain
        if result.ok and self._has_orphan_hashes(result.head_position or 0):
            result = dataclasses.replace(
                result,
                ok=False,
                first_bad_position=(result.head_position or 0) + 1,
                problem="chain links exist for events that are missing from the log",
            )
        return LogCheck(result, checked.tree)

    def _has_orphan_hashes(self, head: int) -> bool:
        table = EVENT_HASH_TABLES[self.name]
        with self.read_session() as session:
            return session.execute(select(table.c.position).where(table.c.position > head).limit(1)).first() is not None
