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


def verify_export(lines: Iterable[str], public_key: Ed25519PublicKey | None) -> ExportVerification:
    """Check every link, the order of every log, and that each log ends exactly at a validly signed checkpoint."""
    heads = {service: (0, GENESIS_HASH) for service in SERVICES}
    events = checkpoints = 0
    checkpointed: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            kind = record["kind"]
        except (ValueError, KeyError, TypeError):
            return ExportVerification(False, events, checkpoints, "line is not an export record", number)
        if kind == "event":
            service, position = record.get("service"), record.get("position")
            if service not in heads or not isinstance(position, int):
                return ExportVerification(
                    False, events, checkpoints, "event names no known log or position", number, service, position
                )
            if service in checkpointed:
                return ExportVerification(
                    False, events, checkpoints, "event after its log's checkpoint", number, service, position
                )
            last_position, previous = heads[service]
            if position <= last_position:
                return ExportVerification(
                    False,
                    events,
                    checkpoints,
                    f"position out of order (after {last_position})",
                    number,
                    service,
                    position,
                )
            expected = link(
                previous,
                canonical_bytes(
                    position,
                    record["originator_id"],
                    record["originator_version"],
                    record["topic"],
                    record["state"].encode("utf-8"),
                ),
            )
            if expected != record.get("hash"):
                return ExportVerification(
                    False, events, checkpoints, "event bytes or chain link do not match", number, service, position
                )
            heads[service] = (position, expected)
            events += 1
        elif kind == "checkpoint":
            fields = {
                key: record.get(key)
                for key in ("service", "head_position", "head_hash", "taken_at", "key_id", "signature")
            }
            checkpoint = Checkpoint(**fields)  # type: ignore[arg-type]
            service = checkpoint.service
            if service not in heads:
                return ExportVerification(False, events, checkpoints, "checkpoint names no known log", number, service)
            if public_key is not None and not signature_valid(public_key, checkpoint):
                return ExportVerification(
                    False,
                    events,
                    checkpoints,
                    "checkpoint signature is not valid (forged or altered)",
                    number,
                    service,
                    checkpoint.head_position,
                )
            position, head = heads[service]
            if (checkpoint.head_position, checkpoint.head_hash) != (position, head):
                return ExportVerification(
                    False,
                    events,
                    checkpoints,
                    (
                        f"log ends at position {position} but its checkpoint says {checkpoint.head_position} "
                        "(truncated or altered)"
                    ),
                    number,
                    service,
                    position,
                )
            checkpointed.add(service)
            checkpoints += 1
        elif kind != "tree_checkpoint":  # C2SP checkpoints: shared/transparency/exports.py checks those
            return ExportVerification(False, events, checkpoints, f"unknown record kind {kind!r}", number)
    missing = [service for service in SERVICES if service not in checkpointed]
    if missing:
        return ExportVerification(
            False,
            events,
            checkpoints,
            f"no checkpoint for {', '.join(missing)} (export truncated?)",
            None,
            missing[0],
            heads[missing[0]][0],
        )
    return ExportVerification(True, events, checkpoints)


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
