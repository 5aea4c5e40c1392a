"""The gate every request passes before a route sees it: size limits, identity, consistency, then the body.

Why a pure ASGI middleware rather than FastAPI dependencies: FastAPI reads and parses the body before it
resolves any dependency, so a dependency cannot refuse an unauthenticated 300 MB upload before reading it,
nor answer 401 (rather than 422) to an anonymous request with a malformed body. Here, in order:

1. the request target and headers are bounded (``414`` / ``431`` problem+json, never a reset or a 500);
2. the policy line of the route is looked up and, unless public, the bearer token verified and the role
   column applied (``401`` / ``403``) — no byte of the body has been read yet;
3. ``Aigov-After`` is honoured, and an action whose policy line says ``as_of_now`` waits until this
   service's followers processed the upstream logs' heads (``503 follower-behind`` beyond the bound);
4. the body is read as it streams, chunked or not, and reading stops at the limit (``413``);
5. a JSON body must be UTF-8, nest at most ``MAX_JSON_DEPTH`` deep, hold only finite numbers, and no string
   (nor a query parameter or the path) may hold a NUL byte, which PostgreSQL refuses and SQLite keeps: both
   databases then store alike, and the answer is a 4xx naming the field.

A second, inner middleware (``PositionHeader``) answers every successful write with ``Aigov-Position``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import current_principal
from shared.consistency import Consistency, views_of
from shared.i18n import N_, Msg
from shared.policy import PUBLIC, Rule, operations, rule_for
from shared.positions import AFTER_HEADER, POSITION_HEADER, format_positions, parse_positions, written_positions_var
from shared.problems import (
    PayloadTooLarge,
    Problem,
    Unprocessable,
    problem_response,
    storage_reason,
    storage_unavailable,
)
from shared.settings import Settings

MAX_JSON_DEPTH = 64
#: What the HTTP parser (uvicorn's h11) buffers of a request head: well above ``AIGOV_MAX_HEADER_BYTES``, so an
#: oversized token reaches the gate and gets its 431 problem+json instead of a connection reset.
PARSER_HEAD_LIMIT = 1 << 20
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class UriTooLong(Problem):
    status, slug, title = 414, "uri-too-long", "Request target too long"


class HeadersTooLarge(Problem):
    status, slug, title = 431, "headers-too-large", "Request headers too large"


class MalformedBody(Problem):
    status, slug, title = 400, "malformed-body", "The request body cannot be read as JSON"


@dataclass(frozen=True)
class RouteLine:
    """One route of the app as the gate sees it: method, path pattern and policy line."""

    method: str
    pattern: re.Pattern[str]
    rule: Rule


def route_lines(app: FastAPI) -> list[RouteLine]:
    """Every route with its policy line, in the app's routing order (first match wins, as in the router)."""
    return [
        RouteLine(method, compile_path(path)[0], rule_for(operation))
        for operation, method, path in operations(app)
        if operation
    ]


def field_error(field: str, message: str, kind: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message, "type": kind}]


class Gatekeeper:
    """See the module docstring; wraps the FastAPI app ``app`` (whose routes and state it reads)."""

    def __init__(self, asgi: ASGIApp, app: FastAPI, settings: Settings):
        self.asgi = asgi
        self.app = app
        self.settings = settings
        self._lines: list[RouteLine] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.asgi(scope, receive, send)
            return
        try:
            self.check_size(scope)
            await self.admit(scope)
            receive = await self.read_body(scope, receive)
        except Problem as problem:
            await problem_response(problem, Request(scope))(scope, receive, send)
            return
        except Exception as error:  # outside the app's handlers: a storage condition must still be a 503
            reason = storage_reason(error)
            if reason is None:
                raise
            await problem_response(storage_unavailable(reason), Request(scope))(scope, receive, send)
            return
        await self.asgi(scope, receive, send)

    # -- 1. sizes ------------------------------------------------------------------------------------

    def check_size(self, scope: Scope) -> None:
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if target > self.settings.max_url_length:
            raise UriTooLong(
                Msg(
                    "The request target is {size} bytes long; at most {limit} are accepted.",
                    size=target,
                    limit=self.settings.max_url_length,
                ),
                errors=field_error("url", "too long", "uri_too_long"),
            )
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        total = sum(len(name) + len(value) for name, value in headers)
        if total > self.settings.max_header_bytes:
            largest = max(headers, key=lambda header: len(header[1]))[0].decode("latin-1")
            raise HeadersTooLarge(
                Msg(
                    "The request headers are {size} bytes; at most {limit} are accepted (the largest is {largest}).",
                    size=total,
                    limit=self.settings.max_header_bytes,
                    largest=largest,
                ),
                errors=field_error(f"header.{largest}", "too large", "headers_too_large"),
            )

    # -- 2. identity and role, 3. consistency ------------------------------------------------------------

    def rule_of(self, scope: Scope) -> Rule | None:
        if self._lines is None:
            self._lines = route_lines(self.app)
        path, method = scope["path"], scope["method"]
        method = "GET" if method == "HEAD" else method
        return next((line.rule for line in self._lines if line.method == method and line.pattern.match(path)), None)

    async def admit(self, scope: Scope) -> None:
        rule = self.rule_of(scope)
        if rule is not None and rule is not PUBLIC:
            request = Request(scope)
            await run_in_threadpool(lambda: current_principal(request).act_as(*rule.roles))
        check_text_of_target(scope)
        after = header_of(scope, AFTER_HEADER)
        consistency = self.consistency()
        # health, readiness and metrics answer at once: a probe must not wait for a follower
        if after is not None and consistency is not None and rule is not None and rule is not PUBLIC:
            await consistency.wait_for(parse_positions(after, consistency.known))
        if rule is not None and rule.as_of_now and scope["method"] in WRITE_METHODS and consistency is not None:
            await consistency.as_of_now()

    def consistency(self) -> Consistency | None:
        """Built once the app's lifespan has made its applications and followers."""
        state = self.app.state
        if getattr(state, "consistency", None) is None:
            threads = getattr(state, "followers", None)
            if threads is None and not getattr(state, "applications", None):
                return None
            followers = [f for f in (threads.followers if threads else []) if hasattr(f, "lag_report")]
            state.consistency = Consistency(
                views_of(state.applications, followers), self.settings.consistency_wait_seconds
            )
        return state.consistency

    # -- 4. body, 5. its text ------------------------------------------------------------------------------

    async def read_body(self, scope: Scope, receive: Receive) -> Receive:
        """The whole body (at most the limit), checked; then a ``receive`` that hands it to the app."""
        limit = self.settings.max_body_bytes
        declared = header_of(scope, "content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise PayloadTooLarge(Msg("The request body is larger than {limit} bytes.", limit=limit))
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return _replay(b"", message, receive)
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    Msg("The request body is larger than {limit} bytes; reading stopped there.", limit=limit)
                )
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and is_json(header_of(scope, "content-type")):
            check_json(body)
        return _replay(body, None, receive)


def _replay(body: bytes, first: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that yields the body read already (or the message that ended it), then defers to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first if first is not None else {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def header_of(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode("latin-1")
    for key, value in scope["headers"]:
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


def is_json(content_type: str | None) -> bool:
    """FastAPI parses a body as JSON when it says so, and also when it names no media type at all."""
    if not content_type:
        return True
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def check_text_of_target(scope: Scope) -> None:
    """No NUL in the path or a query parameter: PostgreSQL refuses it in text, so both databases refuse alike."""
    if "\x00" in scope["path"]:
        raise Unprocessable(N_("The path holds a NUL character."), errors=field_error("path", "NUL character", "nul"))
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = f"query.{name.replace(chr(0), '')}"
            raise Unprocessable(
                Msg("{field} holds a NUL character.", field=field), errors=field_error(field, "NUL character", "nul")
            )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_json(body: bytes) -> None:
    """400 for a body that is not UTF-8, too deeply nested or holds NaN/Infinity; 422 naming a string with NUL.
    Syntax errors are left to FastAPI, which names the position in ``errors``."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as error:
        raise MalformedBody(
            Msg("The body is not UTF-8 (byte {byte}).", byte=error.start),
            errors=field_error("body", "not UTF-8", "invalid_utf8"),
        ) from error
    except RecursionError as error:
        raise too_deep() from error
    except json.JSONDecodeError:
        return
    except ValueError as error:  # NaN/Infinity, or an integer beyond Python's digit limit
        raise MalformedBody(
            Msg("The body is not valid JSON: {error}.", error=str(error)),
            errors=field_error("body", str(error), "json_invalid"),
        ) from error
    for field, depth in walk(value):
        if depth > MAX_JSON_DEPTH:
            raise too_deep()
        if field is not None:
            raise Unprocessable(
                Msg("{field} holds a NUL character.", field=field), errors=field_error(field, "NUL character", "nul")
            )


def too_deep() -> MalformedBody:
    return MalformedBody(
        f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
        errors=field_error("body", f"nested deeper than {MAX_JSON_DEPTH}", "too_deep"),
    )


def walk(value: Any) -> Iterator[tuple[str | None, int]]:
    """Every container's depth, and the path of each string (key or value) holding a NUL character.

    Iterative, so no nesting the JSON parser accepted can overflow the stack here."""
    stack: list[tuple[Any, str, int]] = [(value, "body", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                yield path, depth
        elif isinstance(item, dict):
            yield None, depth + 1
            for key, child in item.items():
                if "\x00" in key:
                    yield path, depth
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            yield None, depth + 1
            stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item))


class PositionHeader:
    """``Aigov-Position`` on every successful write: the last position its commands recorded in this service's log.

    Inside the idempotency middleware, so a replayed response carries the position of the first."""

    def __init__(self, asgi: ASGIApp):
        self.asgi = asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.asgi(scope, receive, send)
            return
        written: dict[str, int] = {}
        token = written_positions_var.set(written)

        async def send_with_position(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400 and written:
                headers = list(message.get("headers", []))
                headers.append((POSITION_HEADER.lower().encode(), format_positions(written).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.asgi(scope, receive, send_with_position)
        finally:
            written_positions_var.reset(token)


def install_gatekeeper(app: FastAPI, settings: Settings) -> None:
    """Add the gate (outside the idempotency middleware: nothing is claimed or read for a refused request)."""
    app.add_middleware(Gatekeeper, app=app, settings=settings)


def install_position_header(app: FastAPI) -> None:
    """Add ``Aigov-Position`` (call before ``install_idempotency``, so it sits inside it)."""
    app.add_middleware(PositionHeader)
