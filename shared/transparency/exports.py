"""The transparency part of an audit export: one C2SP checkpoint per log, and its offline verification.

After the events, before the JSON checkpoints, the export carries ``{"kind": "tree_checkpoint", "service": …,
"note": …}``: the signed checkpoint of exactly the exported leaves, with the witness cosignatures collected
for that size. ``verify_export_tree`` recomputes every leaf and root from the export, checks each note's log
signature and cosignatures, and that the export extends every trusted checkpoint given to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.export import ExportVerification, ExportVerifier
from shared.hashchain import canonical_bytes
from shared.transparency import merkle
from shared.transparency.audit import LeafChecker, TreeCheck, TrustedHead
from shared.transparency.note import NoteError, SignatureType, SignedCheckpoint, Verifier

TREE_CHECKPOINT = "tree_checkpoint"


def tree_checkpoint_line(service: str, note: str) -> str:
    return json.dumps({"kind": TREE_CHECKPOINT, "service": service, "note": note}, ensure_ascii=False)


def service_of(origin: str) -> str:
    """Logs are named ``<prefix>/<service>``."""
    return origin.rsplit("/", 1)[-1]


@dataclass
class ExportTreeResult:
    ok: bool
    logs: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    service: str | None = None
    finding: str | None = None
    first_position: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ExportTreeVerifier:
    """Streams an export once; keys: the log's public key (``None``: signatures deliberately unchecked)."""

    def __init__(self, log_key: Ed25519PublicKey | None, witnesses: list[Verifier], trusted_notes: list[str]):
        self.log_key = log_key
        self.witnesses = witnesses
        self.trusted: dict[str, list[TrustedHead]] = {}
        self.checkers: dict[str, LeafChecker] = {}
        self.notes: dict[str, SignedCheckpoint] = {}
        for number, raw in enumerate(trusted_notes, start=1):
            signed = SignedCheckpoint.parse(raw)
            self._check_signatures(signed, f"trusted checkpoint {number}", require_witnesses=False)
            head = TrustedHead(signed.checkpoint.size, signed.checkpoint.root, f"trusted checkpoint {number}")
            self.trusted.setdefault(service_of(signed.checkpoint.origin), []).append(head)

    def _log_verifier(self, origin: str) -> Verifier | None:
        return Verifier(origin, SignatureType.ED25519, self.log_key) if self.log_key else None

    def _check_signatures(self, signed: SignedCheckpoint, label: str, require_witnesses: bool) -> None:
        verifier = self._log_verifier(signed.checkpoint.origin)
        if verifier is not None:
            try:
                signed.note.verify(verifier)
            except NoteError as error:
                raise NoteError(f"{label}: the log's signature does not verify with the given key ({error})") from None
        for witness in self.witnesses:
            if not signed.note.signed_by(witness):
                if require_witnesses:
                    raise NoteError(f"{label}: not cosigned by witness {witness.name}")
                continue
            try:
                signed.note.verify(witness)
            except NoteError as error:
                raise NoteError(f"{label}: {error}") from None

    def checker(self, service: str) -> LeafChecker:
        if service not in self.checkers:
            self.checkers[service] = LeafChecker(self.trusted.get(service, []))
        return self.checkers[service]

    def add_event(self, record: dict[str, Any], leaf: bytes | None = None) -> None:
        """``leaf``: the event's canonical bytes when the chain check already built them."""
        if leaf is None:
            leaf = canonical_bytes(
                record["position"],
                record["originator_id"],
                record["originator_version"],
                record["topic"],
                record["state"].encode("utf-8"),
            )
        self.checker(record["service"]).add(record["position"], merkle.leaf_hash(leaf))

    def add_note(self, record: dict[str, Any]) -> None:
        signed = SignedCheckpoint.parse(record["note"])
        service = record["service"]
        if service_of(signed.checkpoint.origin) != service:
            raise NoteError(f"{service}: its checkpoint names another log ({signed.checkpoint.origin})")
        self._check_signatures(signed, f"{service} checkpoint", require_witnesses=True)
        tree = self.checker(service).tree
        if (signed.checkpoint.size, signed.checkpoint.root) != (tree.size, tree.root()):
            raise NoteError(
                f"{service}: the export holds {tree.size} leaves with root {tree.root().hex()}, its checkpoint says "
                f"{signed.checkpoint.size} leaves with root {signed.checkpoint.root.hex()}"
            )
        self.notes[service] = signed

    def finish(self) -> ExportTreeResult:
        result = ExportTreeResult(True)
        for service, checker in self.checkers.items():
            check: TreeCheck = checker.finish()
            result.logs[service] = check.as_dict()
            if not check.ok and result.ok:
                result.ok, result.problem, result.service = False, check.detail, service
                result.finding, result.first_position = (
                    check.finding.value if check.finding else None,
                    check.first_position,
                )
        missing = [service for service in self.checkers if service not in self.notes]
        if result.ok and missing:
            result.ok, result.problem, result.service = False, "no C2SP checkpoint for this log", missing[0]
        for service in self.trusted:
            if service not in self.checkers and result.ok:
                result.ok, result.problem, result.service = (
                    False,
                    "a trusted checkpoint names a log the export lacks",
                    service,
                )
                result.finding = "truncated"
        return result


def verify_export_tree(
    lines: Iterable[str], log_key: Ed25519PublicKey | None, witnesses: list[Verifier], trusted_notes: list[str]
) -> ExportTreeResult:
    try:
        verifier = ExportTreeVerifier(log_key, witnesses, trusted_notes)
    except NoteError as error:
        return ExportTreeResult(False, problem=str(error))
    for raw in lines:
        if not raw.strip():
            continue
        record = json.loads(raw)
        try:
            if record.get("kind") == "event":
                verifier.add_event(record)
            elif record.get("kind") == TREE_CHECKPOINT:
                verifier.add_note(record)
        except (NoteError, KeyError, TypeError, ValueError) as error:
            return ExportTreeResult(False, problem=str(error), service=record.get("service"))
    return verifier.finish()


def verify_export_all(
    lines: Iterable[str], public_key: Ed25519PublicKey | None, witnesses: list[Verifier], trusted_notes: list[str]
) -> tuple[ExportVerification, ExportTreeResult]:
    """``aigov audit verify`` in one pass: each line parsed once (orjson) and each event's canonical bytes built
    once, for the hash chain and JSON checkpoints (``shared.export.verify_export``'s verdict) and for the Merkle
    tree and C2SP checkpoints (``verify_export_tree``'s). Each verdict is the one its own pass would give: the
    chain stops at its first break, the tree goes on to its own; the file is read until both have a verdict."""
    chain = ExportVerifier(public_key)
    chain_result: ExportVerification | None = None
    tree_result: ExportTreeResult | None = None
    tree: ExportTreeVerifier | None = None
    try:
        tree = ExportTreeVerifier(public_key, witnesses, trusted_notes)
    except NoteError as error:
        tree_result = ExportTreeResult(False, problem=str(error))
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record: Any = orjson.loads(raw)
        except ValueError:
            record = None
        leaf = None
        if chain_result is None:
            chain_result = chain.record(record, number)
            leaf = chain.event_bytes
        if tree is not None:
            tree_result = _tree_line(tree, record, number, leaf)
            tree = None if tree_result is not None else tree
        if chain_result is not None and tree is None:
            break
    return chain_result or chain.end(), tree_result or (tree.finish() if tree else ExportTreeResult(False))


def _tree_line(tree: ExportTreeVerifier, record: Any, number: int, leaf: bytes | None) -> ExportTreeResult | None:
    """Feed one parsed line to the tree check; its failure, if this line is where it breaks."""
    if not isinstance(record, dict):
        return ExportTreeResult(False, problem=f"line {number} is not an export record")
    try:
        if record.get("kind") == "event":
            tree.add_event(record, leaf)
        elif record.get("kind") == TREE_CHECKPOINT:
            tree.add_note(record)
    except (NoteError, KeyError, TypeError, ValueError) as error:
        return ExportTreeResult(False, problem=str(error), service=record.get("service"))
    return None
