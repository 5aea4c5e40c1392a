"""A service's side of the transparency log: its signing key, its checkpoints, and pushing them to witnesses.

Checkpoints are signed on demand from the stored tree (Ed25519 is deterministic: the same size always gives
the same note), so ``GET /v1/log/checkpoint`` covers the head the moment a write commits. A pusher thread sends
each new checkpoint to every witness of ``AIGOV_WITNESSES`` per C2SP ``tlog-witness`` and keeps the
cosignatures they return; it also watches that the log still extends the last cosigned checkpoint, which
``/readyz`` and the ``aigov_transparency_consistent`` metric report.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from shared.schema import COSIGNATURE_TABLES
from shared.settings import Settings
from shared.transparency.note import (
    Checkpoint,
    Note,
    NoteError,
    SignatureType,
    SignedCheckpoint,
    Signer,
    Verifier,
    load_private_key,
)
from shared.transparency.store import TreeReader

log = logging.getLogger("aigov.transparency")
TLOG_SIZE_MEDIA_TYPE = "text/x.tlog.size"
RECHECK_SECONDS = 5.0


class KeyPlacementError(RuntimeError):
    """The checkpoint key sits where whoever controls the data could also take it."""


def checkpoint_key_path(settings: Settings) -> Path:
    return settings.checkpoint_key_path or Path(settings.var_dir) / "checkpoint-ed25519.pem"


def require_key_apart_from_data(path: Path, settings: Settings) -> None:
    """In production the key must be a mounted, read-only secret outside ``AIGOV_VAR_DIR``.

    A key beside the database lets an intruder who rewrites the log re-sign it; a key the service can write
    can be replaced by anyone who takes over the service."""
    if settings.env != "production":
        return
    resolved, data = path.resolve(), Path(settings.var_dir).resolve()
    if resolved == data or data in resolved.parents:
        raise KeyPlacementError(f"AIGOV_CHECKPOINT_KEY_PATH ({path}) lies inside AIGOV_VAR_DIR ({data})")
    if not path.exists():
        raise KeyPlacementError(f"AIGOV_CHECKPOINT_KEY_PATH ({path}) does not exist (mount the secret)")
    if path.stat().st_mode & 0o222:  # a read-only secret mount (mode 0400/0444), not os.access: root passes that
        raise KeyPlacementError(f"AIGOV_CHECKPOINT_KEY_PATH ({path}) is writable by this service; mount it read-only")


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key at ``path``, generated there first if absent (development).

    Safe when several processes start at once: the key is written whole to a private temporary file and then
    hard-linked into place, which fails if another process got there first; nobody reads a half-written key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return load_private_key(path.read_bytes())


def origin(settings: Settings, service: str) -> str:
    return f"{settings.tlog_origin_prefix}/{service}"


def log_signer(settings: Settings, service: str) -> Signer:
    path = checkpoint_key_path(settings)
    require_key_apart_from_data(path, settings)
    return Signer(origin(settings, service), SignatureType.ED25519, load_or_create_key(path))


@dataclass(frozen=True)
class Witness:
    """One witness a service pushes to: where it listens and the cosigning key it is trusted with."""

    url: str
    verifier: Verifier

    @property
    def name(self) -> str:
        return self.verifier.name


def parse_witnesses(value: str | None) -> list[Witness]:
    """``AIGOV_WITNESSES``: comma-separated ``URL VKEY`` pairs (the vkey's signature type must be 0x04)."""
    witnesses = []
    for entry in (value or "").split(","):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 2:
            raise ValueError(f"AIGOV_WITNESSES entry {entry.strip()!r} is not 'URL VKEY'")
        verifier = Verifier.from_vkey(parts[1])
        if verifier.kind != SignatureType.COSIGNATURE_V1:
            raise ValueError(f"AIGOV_WITNESSES: {verifier.name}'s key is not a cosignature/v1 (type 0x04) vkey")
        witnesses.append(Witness(parts[0].rstrip("/"), verifier))
    return witnesses


def add_checkpoint_body(old_size: int, proof: Iterable[bytes], note: str) -> bytes:
    """The C2SP ``tlog-witness`` request: ``old N``, one base64 proof hash per line, a blank line, the note."""
    lines = [f"old {old_size}\n"] + [base64.b64encode(hash_).decode() + "\n" for hash_ in proof]
    return ("".join(lines) + "\n" + note).encode()


@dataclass
class PushState:
    """What the pusher knows: each witness's last cosigned size, and whether the log still extends it."""

    witness_sizes: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, str] = field(default_factory=dict)
    consistent: bool = True
    problem: str | None = None


class Publisher:
    """Checkpoints of one service's log, their cosignatures, and the thread that collects them."""

    def __init__(self, application: Any, signer: Signer, witnesses: list[Witness], interval: float = 0.25):
        self.application = application
        self.service: str = application.name
        self.signer = signer
        self.witnesses = witnesses
        self.reader = TreeReader(self.service, application.read_session)
        self.interval = interval
        self.state = PushState()
        self.lock_name = f"transparency-{self.service}"
        self.lock = threading.Lock()
        self.checked_at = 0.0

    # -- checkpoints ---------------------------------------------------------------------------------------
    def signed(self, size: int, root: bytes) -> SignedCheckpoint:
        return SignedCheckpoint.sign(Checkpoint(self.signer.name, size, root), self.signer)

    def latest(self, size: int | None = None) -> str:
        """The checkpoint of the head (or of ``size`` leaves) with every cosignature collected for it."""
        if size is None:
            size, root = self.reader.head()
        else:
            root = self.reader.root(size)
        signed = self.signed(size, root)
        lines = [line for _, line in self.cosignatures(size, signed.checkpoint.root_b64)]
        return signed.note.with_signatures(lines).render()

    def cosignatures(self, size: int, root_b64: str) -> list[tuple[str, str]]:
        table = COSIGNATURE_TABLES[self.service]
        with self.application.read_session() as session:
            rows = session.execute(
                select(table.c.witness, table.c.signature_line).where(
                    table.c.tree_size == size, table.c.root_hash == root_b64
                )
            ).all()
        return [(witness, line) for witness, line in rows]

    def last_cosigned(self) -> tuple[int, str] | None:
        """The largest size a witness cosigned, with its root (base64), as this service recorded it."""
        table = COSIGNATURE_TABLES[self.service]
        with self.application.read_session() as session:
            row = session.execute(
                select(table.c.tree_size, table.c.root_hash).order_by(table.c.tree_size.desc()).limit(1)
            ).first()
        return None if row is None else (row[0], row[1])

    # -- the pusher ----------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Until ``stop``: push each new head. Without witnesses there is nothing to push or to compare with."""
        if not self.witnesses:
            return
        pushed = -1
        while not stop.wait(self.interval):
            try:
                pushed = self.step(pushed)
            except Exception:  # noqa: BLE001 - retried next round; readiness reports a lasting problem
                log.exception("pushing the %s checkpoint failed", self.service)

    def step(self, pushed: int) -> int:
        """Push a new head, after checking the log still extends its last cosigned checkpoint (at each new head,
        and every ``RECHECK_SECONDS`` while idle: on SQLite every transaction takes the write lock, so an idle
        pusher reads once per round). Returns the size pushed."""
        size, root = self.reader.head()
        if size != pushed or time.monotonic() - self.checked_at > RECHECK_SECONDS:
            self.check_extends_last_cosigned(size)
        if size == pushed or not self.state.consistent:
            return pushed
        self.push(size, root)
        return size

    def check_extends_last_cosigned(self, current: int | None = None) -> None:
        self.checked_at = time.monotonic()
        last = self.last_cosigned()
        if last is None:
            return
        size, root_b64 = last
        current = self.reader.size() if current is None else current
        if current < size:
            self._inconsistent(f"truncated: the log has {current} leaves, a witness cosigned {size}")
            return
        try:
            stored = self.reader.root(size)
        except LookupError as error:
            self._inconsistent(f"rewritten: {error}")
            return
        if base64.b64encode(stored).decode() != root_b64:
            self._inconsistent(f"rewritten: the first {size} leaves no longer have the cosigned root")
            return
        self.state.consistent, self.state.problem = True, None

    def _inconsistent(self, problem: str) -> None:
        if self.state.consistent:
            log.error("%s log no longer extends its last cosigned checkpoint: %s", self.service, problem)
        self.state.consistent, self.state.problem = False, problem

    def push(self, size: int, root: bytes) -> None:
        note = self.signed(size, root).render()
        with httpx.Client(timeout=5) as client:
            for witness in self.witnesses:
                self.push_to(client, witness, size, note)

    def push_to(self, client: httpx.Client, witness: Witness, size: int, note: str) -> None:
        with self.lock:
            for _ in range(2):  # a 409 tells us the witness's size; one retry with the right proof
                old = min(self.state.witness_sizes.get(witness.name, 0), size)
                body = add_checkpoint_body(old, self.reader.consistency(old, size) if old else [], note)
                response = client.post(f"{witness.url}/add-checkpoint", content=body)
                if response.status_code == 409 and response.text.strip().isdigit():
                    known = int(response.text.strip())
                    self.state.witness_sizes[witness.name] = known
                    if known > size:
                        self.state.refusals[witness.name] = f"witness has cosigned {known} leaves, the log has {size}"
                        self._inconsistent(f"truncated: {witness.name} cosigned {known} leaves, the log has {size}")
                        return
                    continue
                if response.status_code != 200:
                    reason = response.headers.get("aigov-witness-reason") or response.text.strip()
                    self.state.refusals[witness.name] = f"{response.status_code}: {reason}"
                    log.error("witness %s refused %s size %d: %s", witness.name, self.service, size, reason)
                    return
                self.store_cosignature(witness, size, note, response.text)
                return

    def store_cosignature(self, witness: Witness, size: int, note: str, response: str) -> None:
        parsed = Note.parse(note)
        lines = [line for line in response.splitlines(keepends=True) if line.strip()]
        cosigned = parsed.with_signatures(lines)
        try:
            cosigned.verify(witness.verifier)
        except NoteError as error:
            self.state.refusals[witness.name] = f"cosignature does not verify: {error}"
            return
        line = cosigned.signed_by(witness.verifier)[0].line
        root_b64 = Checkpoint.from_text(parsed.text).root_b64
        table = COSIGNATURE_TABLES[self.service]
        with self.application.transaction() as session:
            exists = session.execute(
                select(table.c.tree_size).where(table.c.tree_size == size, table.c.witness == witness.name)
            ).first()
            if exists is None:
                session.execute(
                    table.insert().values(
                        tree_size=size,
                        witness=witness.name,
                        root_hash=root_b64,
                        signature_line=line,
                        received_at=datetime.now(UTC),
                    )
                )
        self.state.witness_sizes[witness.name] = size
        self.state.refusals.pop(witness.name, None)

    # -- operations ----------------------------------------------------------------------------------------
    def readiness(self) -> dict[str, str]:
        problem = None if self.state.consistent else f"does not extend its cosigned checkpoint: {self.state.problem}"
        return {f"transparency:{self.service}": problem or "ok"}


def publishers_readiness(publishers: Callable[[], list[Publisher]]) -> Callable[[], dict[str, str]]:
    def check() -> dict[str, str]:
        checks: dict[str, str] = {}
        for publisher in publishers():
            checks.update(publisher.readiness())
        return checks

    return check
