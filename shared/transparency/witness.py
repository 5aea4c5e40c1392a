"""A C2SP ``tlog-witness``: cosigns a log's checkpoint only when it extends the last one it cosigned.

Runs apart from the services (``aigov witness serve``) with its own key, storage and port; in production
another organisation runs it. It keeps every checkpoint it cosigned (the spec needs only the latest; the
history lets an auditor see which cosigned size a rewritten log stopped matching).
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from fastapi import FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Text, select

from shared.database import create_engine
from shared.schema import position_column
from shared.transparency import merkle
from shared.transparency.note import Checkpoint, Note, NoteError, SignedCheckpoint, Signer, Verifier

MAX_PROOF_LINES = 63
REASON_HEADER = "Aigov-Witness-Reason"

witness_metadata = MetaData()
witness_checkpoints = Table(
    "witness_checkpoints",
    witness_metadata,
    Column("origin", String(255), primary_key=True),
    position_column("tree_size", primary_key=True),
    Column("root_hash", String(44), nullable=False),
    Column("note", Text, nullable=False),
    Column("cosigned_at", DateTime(timezone=True), nullable=False),
)


class Status(IntEnum):
    OK = 200
    BAD_REQUEST = 400
    FORBIDDEN = 403
    NOT_FOUND = 404
    CONFLICT = 409
    UNPROCESSABLE = 422


@dataclass(frozen=True)
class Outcome:
    """The witness's answer: a status, the body the spec prescribes, and why (for people)."""

    status: Status
    body: str
    reason: str
    media_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Submission:
    old_size: int
    proof: list[bytes]
    signed: SignedCheckpoint


def parse_submission(body: bytes) -> Submission:
    """``old N\\n``, up to 63 base64 hashes, a blank line, then the checkpoint note."""
    text = body.decode("utf-8")
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise NoteError("no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    old = lines[0].removeprefix("old ")
    if not lines[0].startswith("old ") or not old.isdigit() or (old != "0" and old.startswith("0")):
        raise NoteError("the first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise NoteError("more than 63 consistency proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error as error:
        raise NoteError("a consistency proof line is not base64") from error
    return Submission(int(old), proof, SignedCheckpoint.parse(note))


class WitnessService:
    """The witness's state and rules: trusted logs, its cosigning key, and what it cosigned."""

    def __init__(self, signer: Signer, logs: list[Verifier], database_url: str):
        self.signer = signer
        self.logs = {verifier.name: verifier for verifier in logs}
        self.engine: Engine = create_engine(database_url)
        witness_metadata.create_all(self.engine)
        self.lock = threading.Lock()

    def latest(self, origin: str) -> tuple[int, str, str] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(witness_checkpoints.c.tree_size, witness_checkpoints.c.root_hash, witness_checkpoints.c.note)
                .where(witness_checkpoints.c.origin == origin)
                .order_by(witness_checkpoints.c.tree_size.desc())
                .limit(1)
            ).first()
        return None if row is None else (row[0], row[1], row[2])

    def history(self, origin: str) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(witness_checkpoints.c.note)
                .where(witness_checkpoints.c.origin == origin)
                .order_by(witness_checkpoints.c.tree_size)
            ).all()
        return [row[0] for row in rows]

    def add_checkpoint(self, body: bytes) -> Outcome:
        try:
            submission = parse_submission(body)
        except (NoteError, UnicodeDecodeError) as error:
            return Outcome(Status.BAD_REQUEST, f"{error}\n", str(error))
        checkpoint = submission.signed.checkpoint
        verifier = self.logs.get(checkpoint.origin)
        if verifier is None:
            return Outcome(Status.NOT_FOUND, "unknown origin\n", f"unknown log origin {checkpoint.origin!r}")
        try:
            submission.signed.note.verify(verifier)
        except NoteError as error:
            return Outcome(Status.FORBIDDEN, f"{error}\n", f"the log's signature does not verify: {error}")
        if submission.old_size > checkpoint.size:
            return Outcome(Status.BAD_REQUEST, "old size exceeds checkpoint size\n", "old size exceeds the checkpoint")
        with self.lock:  # check and persist atomically (the race the spec describes)
            return self._cosign_if_consistent(submission)

    def _cosign_if_consistent(self, submission: Submission) -> Outcome:
        checkpoint = submission.signed.checkpoint
        latest = self.latest(checkpoint.origin)
        known_size, known_root = (latest[0], base64.b64decode(latest[1])) if latest else (0, merkle.EMPTY_ROOT)
        if submission.old_size != known_size:
            return _conflict(known_size, f"old size {submission.old_size} is not the last cosigned size {known_size}")
        if known_size == checkpoint.size and known_root != checkpoint.root:
            return _conflict(known_size, f"size {known_size} was cosigned with another root hash (a fork)")
        try:
            merkle.verify_consistency(known_size, checkpoint.size, known_root, checkpoint.root, submission.proof)
        except merkle.ProofError as error:
            reason = f"not consistent with the cosigned size {known_size}: {error}"
            return Outcome(Status.UNPROCESSABLE, reason + "\n", reason)
        line = self.signer.signature_line(submission.signed.note.text, int(time.time()))
        if known_size != checkpoint.size or latest is None:
            self._record(checkpoint, submission.signed.note.with_signatures([line]))
        return Outcome(Status.OK, line, "cosigned")

    def _record(self, checkpoint: Checkpoint, note: Note) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                witness_checkpoints.insert().values(
                    origin=checkpoint.origin,
                    tree_size=checkpoint.size,
                    root_hash=checkpoint.root_b64,
                    note=note.render(),
                    cosigned_at=datetime.now(UTC),
                )
            )


def _conflict(size: int, reason: str) -> Outcome:
    return Outcome(Status.CONFLICT, f"{size}\n", reason, "text/x.tlog.size")


def create_witness_app(service: WitnessService) -> FastAPI:
    app = FastAPI(title="aigov witness", description="A C2SP tlog-witness with tlog-cosignature/v1 (Ed25519).")

    @app.post("/add-checkpoint", summary="C2SP tlog-witness add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        outcome = service.add_checkpoint(await request.body())
        return Response(
            outcome.body,
            status_code=int(outcome.status),
            media_type=outcome.media_type,
            headers={REASON_HEADER: outcome.reason},
        )

    @app.get("/checkpoint", summary="The latest checkpoint this witness cosigned for a log, with its cosignature")
    def checkpoint(origin: str = Query(max_length=255)) -> Response:
        latest = service.latest(origin)
        if latest is None:
            return PlainTextResponse("no checkpoint cosigned for this origin\n", status_code=404)
        return PlainTextResponse(latest[2])

    @app.get("/checkpoints", summary="Every checkpoint this witness cosigned for a log, oldest first")
    def checkpoints(origin: str = Query(max_length=255)) -> list[str]:
        return service.history(origin)

    @app.get("/key", summary="The witness's cosignature/v1 verifier key (vkey)")
    def key() -> PlainTextResponse:
        return PlainTextResponse(service.signer.verifier.vkey() + "\n")

    @app.get("/healthz", summary="Process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
