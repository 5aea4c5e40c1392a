"""Safe retries: ``Idempotency-Key`` on POST, kept durably in the service's own database.

Why: a ministry system that times out on a POST cannot know whether its command was recorded. Retrying
with the same key returns the first response and records nothing more; the same key with another request
is refused (422), since it is almost certainly a client bug. Keys are scoped to the caller (``sub``), so one
caller can never read another's response, and survive restarts because they live in the database.

How: the first request with a key claims it (a pending row, unique per service, caller and key) before the
command runs, so two concurrent retries cannot both execute; the response is stored once the command
answered. A 5xx leaves nothing recorded, so its claim is released and the key may be retried. If the process
dies between committing the command and storing its response, the claim stays pending and retries get 409
``idempotency-key-in-flight``: the outcome is then unknown to the service, and the caller checks the resource.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy
from fastapi import FastAPI, Request, Response
from sqlalchemy import Column, DateTime, Integer, LargeBinary, PrimaryKeyConstraint, String, Table, Text
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from shared.auth import current_principal
from shared.problems import (
    IdempotencyKeyInFlight,
    InvalidIdempotencyKey,
    Problem,
    Unprocessable,
    problem_response,
    storage_reason,
    storage_unavailable,
)
from shared.schema import metadata

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
REPLAYED_HEADERS = ("content-type", "etag", "location", "aigov-position")
logger = logging.getLogger("aigov.idempotency")

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("service", String(32), nullable=False),
    Column("principal", String(255), nullable=False),
    Column("key", String(255), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(2048), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer(), nullable=True),
    Column("response_headers", Text(), nullable=True),
    Column("response_body", LargeBinary(), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("service", "principal", "key", name="idempotency_keys_pkey"),
)


@dataclass(frozen=True)
class Claim:
    """One request's identity for idempotency: who, which key, and what exactly they asked."""

    service: str
    principal: str
    key: str
    method: str
    path: str
    request_sha256: str


class IdempotencyStore:
    """The durable table of keys, claims and stored responses."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def claim(self, claim: Claim) -> dict[str, object] | None:
        """Claim the key; ``None`` when this request is the first, else the row already holding it."""
        row = {**claim.__dict__, "created_at": datetime.now(UTC)}
        try:
            with self.engine.begin() as connection:
                connection.execute(idempotency_keys.insert().values(**row))
            return None
        except sqlalchemy.exc.IntegrityError:
            with self.engine.begin() as connection:
                found = connection.execute(idempotency_keys.select().where(*self._match(claim))).mappings().first()
            return dict(found) if found else None

    def complete(self, claim: Claim, status: int, headers: dict[str, str], body: bytes) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                idempotency_keys.update()
                .where(*self._match(claim))
                .values(status=status, response_headers=json.dumps(headers), response_body=body)
            )

    def release(self, claim: Claim) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                idempotency_keys.delete().where(*self._match(claim), idempotency_keys.c.status.is_(None))
            )

    @staticmethod
    def _match(claim: Claim) -> tuple[object, ...]:
        table = idempotency_keys.c
        return (table.service == claim.service, table.principal == claim.principal, table.key == claim.key)


def replay(row: dict[str, object], claim: Claim) -> Response | Problem:
    """The stored response of the first request, or the problem of a mismatch or of a pending claim."""
    if (row["method"], row["path"], row["request_sha256"]) != (claim.method, claim.path, claim.request_sha256):
        return Unprocessable(
            f"{HEADER} {claim.key!r} was used for another request; use a new key for a new request.",
            errors=[
                {
                    "field": f"header.{HEADER}",
                    "message": "reused for a different request",
                    "type": "idempotency_key_reused",
                }
            ],
        )
    if row["status"] is None:
        return IdempotencyKeyInFlight(
            (
                f"A request with {HEADER} {claim.key!r} is in flight, or stopped before its outcome was "
                "stored; check the resource before retrying with a new key."
            ),
            headers={"Retry-After": "1"},
        )
    headers = {**json.loads(str(row["response_headers"])), REPLAYED_HEADER: "true"}
    return Response(content=bytes(row["response_body"]), status_code=int(str(row["status"])), headers=headers)  # type: ignore[arg-type]


def install_idempotency(app: FastAPI, service: str, engine: Callable[[], Engine]) -> None:
    """Honour ``Idempotency-Key`` on every POST of ``app``, keeping keys through ``engine()``: the service's own
    database engine, built at start-up (so its pool is the one readiness and metrics watch)."""

    def store() -> IdempotencyStore:
        if getattr(app.state, "idempotency", None) is None:
            app.state.idempotency = IdempotencyStore(engine())
        return app.state.idempotency

    @app.middleware("http")
    async def _idempotent(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return await call_next(request)
        if not KEY_PATTERN.match(key):
            return problem_response(
                InvalidIdempotencyKey(f"{HEADER} must be 1 to 255 visible ASCII characters."), request
            )
        try:
            principal = current_principal(request)
        except Problem:
            return await call_next(request)  # the route answers 401 itself; nothing to remember
        claim = Claim(
            service,
            principal.sub,
            key,
            request.method,
            request.url.path + ("?" + request.url.query if request.url.query else ""),
            hashlib.sha256(await request.body()).hexdigest(),
        )
        try:
            existing = await run_in_threadpool(store().claim, claim)
        except Exception as error:
            reason = storage_reason(error)
            if reason is None:
                raise
            return problem_response(storage_unavailable(reason), request)  # nothing claimed, nothing run
        if existing is not None:
            answer = replay(existing, claim)
            return problem_response(answer, request) if isinstance(answer, Problem) else answer
        return await run_claimed(store(), claim, request, call_next)


async def run_claimed(
    store: IdempotencyStore, claim: Claim, request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Run the claimed request and keep its answer for retries; a failure (5xx or an exception) frees the key."""
    try:
        response = await call_next(request)
    except BaseException:
        await settle(store.release, claim)
        raise
    if response.status_code >= 500:
        await settle(store.release, claim)
        return response
    content = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    kept = {name: value for name, value in response.headers.items() if name in REPLAYED_HEADERS}
    await settle(store.complete, claim, response.status_code, kept, content)
    return Response(content=content, status_code=response.status_code, headers=dict(response.headers))


async def settle(operation: Callable[..., None], *arguments: object) -> None:
    """Record the outcome of a claimed request; if storage fails now, the command's own answer still stands
    (it was recorded, or not, on its own) and the key stays in flight, as after a crash."""
    try:
        await run_in_threadpool(operation, *arguments)
    except Exception as error:
        if storage_reason(error) is None:
            raise
        logger.warning("idempotency key %s left in flight: %s", arguments[0], error)
