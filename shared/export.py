"""Audit exports: NDJSON of every log with raw stored fields and chain links, then a signed checkpoint per log.

Verification and decoding here need neither aigov's services nor a database: only this code, the export
file and the operator's public key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.checkpoints import Checkpoint, signature_valid
from shared.contracts import Contract
from shared.hashchain import GENESIS_HASH, ChainedRecord, canonical_bytes, link
from shared.logreader import EnvelopeDecoder

SERVICES = ("registry", "risk")


def event_line(
    service: str,
    position: int,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    state: bytes,
    hash_: str | None,
) -> str:
    """One exported event: exactly the stored bytes that were hashed, and the stored link."""
    return json.dumps(
        {
            "kind": "event",
            "service": service,
            "position": position,
            "originator_id": str(originator_id),
            "originator_version": originator_version,
            "topic": topic,
            "state": state.decode("utf-8"),
            "hash": hash_,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def checkpoint_line(checkpoint: Checkpoint) -> str:
    return json.dumps({"kind": "checkpoint", **checkpoint.as_dict()}, separators=(",", ":"))


@dataclass(frozen=True)
class ExportVerification:
    ok: bool
    events: int
    checkpoints: int
    problem: str | None = None
    line: int | None = None
    service: str | None = None
    position: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ExportVerifier:
    """The state of one pass over an export: each log's head, what was counted, which logs were checkpointed."""

    def __init__(self, public_key: Ed25519PublicKey | None):
        self.public_key = public_key
        self.heads = {service: (0, GENESIS_HASH) for service in SERVICES}
        self.events = self.checkpoints = 0
        self.checkpointed: set[str] = set()
        #: The canonical bytes of the event the last line held, once hashed (the tree's leaf reuses them).
        self.event_bytes: bytes | None = None

    def failed(self, problem: str, line: int | None, service: Any = None, position: Any = None) -> ExportVerification:
        return ExportVerification(False, self.events, self.checkpoints, problem, line, service, position)

    def event(self, record: dict[str, Any], number: int) -> ExportVerification | None:
        service, position = record.get("service"), record.get("position")
        if service not in self.heads or not isinstance(position, int):
            return self.failed("event names no known log or position", number, service, position)
        if service in self.checkpointed:
            return self.failed("event after its log's checkpoint", number, service, position)
        last_position, previous = self.heads[service]
        if position <= last_position:
            return self.failed(f"position out of order (after {last_position})", number, service, position)
        self.event_bytes = canonical_bytes(
            position,
            record["originator_id"],
            record["originator_version"],
            record["topic"],
            record["state"].encode("utf-8"),
        )
        expected = link(previous, self.event_bytes)
        if expected != record.get("hash"):
            return self.failed("event bytes or chain link do not match", number, service, position)
        self.heads[service] = (position, expected)
        self.events += 1
        return None

    def checkpoint(self, record: dict[str, Any], number: int) -> ExportVerification | None:
        fields = {
            key: record.get(key) for key in ("service", "head_position", "head_hash", "taken_at", "key_id", "signature")
        }
        checkpoint = Checkpoint(**fields)  # type: ignore[arg-type]
        service = checkpoint.service
        if service not in self.heads:
            return self.failed("checkpoint names no known log", number, service)
        if self.public_key is not None and not signature_valid(self.public_key, checkpoint):
            return self.failed(
                "checkpoint signature is not valid (forged or altered)", number, service, checkpoint.head_position
            )
        position, head = self.heads[service]
        if (checkpoint.head_position, checkpoint.head_hash) != (position, head):
            return self.failed(
                f"log ends at position {position} but its checkpoint says {checkpoint.head_position} "
                "(truncated or altered)",
                number,
                service,
                position,
            )
        self.checkpointed.add(service)
        self.checkpoints += 1
        return None

    def line(self, raw: str, number: int) -> ExportVerification | None:
        try:
            record = orjson.loads(raw)  # ~4× json.loads: the export verifier's largest cost after hashing
        except ValueError:
            return self.failed("line is not an export record", number)
        return self.record(record, number)

    def record(self, record: Any, number: int) -> ExportVerification | None:
        """One parsed line (None: it was not JSON)."""
        self.event_bytes = None
        try:
            kind = record["kind"]
        except (KeyError, TypeError):
            return self.failed("line is not an export record", number)
        if kind == "event":
            return self.event(record, number)
        if kind == "tree_checkpoint":  # C2SP checkpoints: shared/transparency/exports.py checks those
            return None
        if kind == "checkpoint":
            return self.checkpoint(record, number)
        return self.failed(f"unknown record kind {kind!r}", number)

    def end(self) -> ExportVerification:
        missing = [service for service in SERVICES if service not in self.checkpointed]
        if missing:
            return self.failed(
                f"no checkpoint for {', '.join(missing)} (export truncated?)",
                None,
                missing[0],
                self.heads[missing[0]][0],
            )
        return ExportVerification(True, self.events, self.checkpoints)


def verify_export(lines: Iterable[str], public_key: Ed25519PublicKey | None) -> ExportVerification:
    """Check every link, the order of every log, and that each log ends exactly at a validly signed checkpoint."""
    verifier = ExportVerifier(public_key)
    for number, raw in enumerate(lines, start=1):
        if raw.strip() and (failure := verifier.line(raw, number)) is not None:
            return failure
    return verifier.end()


def envelopes(lines: Iterable[str], contracts: Iterable[Contract]) -> Iterator[dict[str, Any]]:
    """The events of an export as log-entry envelopes (what the reporting projection folds), decoded with the
    published contracts of the logs it holds: no service's classes are needed to read an export."""
    decoders = {contract.service: EnvelopeDecoder(contract) for contract in contracts}
    for raw in lines:
        if not raw.strip():
            continue
        record = json.loads(raw)
        if record.get("kind") != "event":
            continue
        stored = ChainedRecord(
            record["position"],
            record["originator_id"],
            record["originator_version"],
            record["topic"],
            record["state"].encode("utf-8"),
            record["hash"],
        )
        yield decoders[record["service"]](stored).as_dict()
