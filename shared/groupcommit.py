"""Group commit: the saves of concurrent commands recorded together in one transaction, each answered on its own.

Why: writers to one log are serialised (``LOCK TABLE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so under
concurrency every command waits for the lock, then pays its own transaction and its own commit (a WAL flush on
PostgreSQL). Here a command that finds another save in progress queues its save; whoever takes the lock next
records everything queued meanwhile in one transaction, each save in its own savepoint, in the order they
arrived, and commits once. Each save is still checked on its own (its aggregates' versions, its guard, its
index rows, against everything recorded before it, including the earlier saves of the same batch); one that
fails is rolled back to its savepoint and answered with its own error, the others commit. Alone, a save runs
exactly as before: no savepoint, one transaction.

The combining is the classic one (a "flat combining" queue): each thread enqueues, then takes the leader lock;
the thread that gets it and finds its own save still pending drains the queue and records it all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class QueuedSave:
    """One command's save waiting to be recorded: what it saves, and then what came of it."""

    objs: tuple[Any, ...]
    kwargs: dict[str, Any]
    guard: Callable[[Any], None] | None
    done: bool = False
    recordings: list[Any] = field(default_factory=list)
    error: BaseException | None = None

    def outcome(self) -> list[Any]:
        """Its recordings, or its error raised in the thread of the command that asked for the save."""
        if self.error is not None:
            raise self.error
        return self.recordings


#: Records a batch of saves in one transaction, setting each one's recordings or error.
RecordBatch = Callable[[Sequence[QueuedSave]], None]


class GroupCommit:
    """The queue of one application's pending saves and the lock of whoever records them."""

    def __init__(self, record: RecordBatch, on_batch: Callable[[int], None] | None = None):
        self._record = record
        self._on_batch = on_batch
        self._queue: list[QueuedSave] = []
        self._queue_lock = threading.Lock()
        #: Held by whoever is recording a batch; saves that arrive meanwhile queue for the next one.
        self.recording = threading.Lock()

    def queued(self) -> int:
        """How many saves wait for the next batch."""
        with self._queue_lock:
            return len(self._queue)

    def save(self, queued: QueuedSave) -> list[Any]:
        """Queue the save, then record it (with whatever else queued meanwhile) unless a leader already did."""
        with self._queue_lock:
            self._queue.append(queued)
        with self.recording:
            if not queued.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._record_batch(batch)
        return queued.outcome()

    def _record_batch(self, batch: list[QueuedSave]) -> None:
        try:
            self._record(batch)
        except BaseException as error:  # the transaction failed as a whole: nothing of the batch is recorded
            for queued in batch:
                queued.recordings, queued.error = [], queued.error or error
        finally:
            for queued in batch:
                queued.done = True
            if self._on_batch is not None:
                self._on_batch(len(batch))
