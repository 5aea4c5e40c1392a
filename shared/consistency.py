"""Causal consistency across services: wait until this service has processed the log positions asked for.

Two uses, one mechanism:
- ``Aigov-After: registry=57`` on any request: answer only once this service's followers (or its own log)
  reached those positions, so a client reads on one service what it wrote on another;
- *authority as of now*: a command whose authority or preconditions rest on another service's facts (a CAIO
  designation, a project's ministry and stage, the risk gate) first reads the upstream log's head and waits
  until its follower processed it. An acknowledged designation change is in that head, so it binds every
  later command: there is no window in which the follower's older view decides.

Both wait at most ``AIGOV_CONSISTENCY_WAIT_SECONDS``, then answer ``503 follower-behind`` with Retry-After:
the follower is behind (or stopped), which is a condition of the service, not the caller's fault. Positions
are read from the database (the tracking records), so any replica answers correctly, whichever runs the follower.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from shared.eventlog import AuditedApplication
from shared.problems import Problem

POLL_SECONDS = 0.005


class FollowerBehind(Problem):
    status, slug, title = 503, "follower-behind", "This service has not yet processed the positions required"


@dataclass(frozen=True)
class LogView:
    """What this service knows of one log: how far it has processed it, and how far it goes upstream."""

    name: str
    processed: Callable[[], int]
    head: Callable[[], int]
    own: bool
    follower: Any = None

    def nudge(self) -> None:
        """Wake the follower if it idles in this process (it polls on SQLite; PostgreSQL NOTIFYs it anyway)."""
        wake = getattr(self.follower, "wake", None)
        if wake is not None:
            wake.set()


def views_of(applications: list[Any], followers: list[Any]) -> dict[str, LogView]:
    """The logs a service owns (its ``AuditedApplication``) and follows (each follower's upstreams)."""
    views: dict[str, LogView] = {}
    for application in applications:
        if isinstance(application, AuditedApplication):
            head = application.head_position
            views[application.name] = LogView(application.name, processed=head, head=head, own=True)
    for follower in followers:
        for name in follower.lag_report():
            views[name] = LogView(name, _processed(follower, name), _head(follower, name), False, follower)
    return views


def _processed(follower: Any, name: str) -> Callable[[], int]:
    def position() -> int:
        reached = follower.position()
        return int(reached[name] if isinstance(reached, dict) else reached)

    return position


def _head(follower: Any, name: str) -> Callable[[], int]:
    upstreams = getattr(getattr(follower, "store", None), "upstreams", None)
    upstream = upstreams[name] if upstreams is not None else follower.upstream
    return upstream.head


class Consistency:
    """Waits, without blocking the event loop, until the logs this service reads reach given positions."""

    def __init__(self, views: dict[str, LogView], wait_seconds: float):
        self.views = views
        self.wait_seconds = wait_seconds

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.views)

    def missing(self, targets: dict[str, int]) -> dict[str, tuple[int, int]]:
        """Per log still short of its target: (processed, target)."""
        short: dict[str, tuple[int, int]] = {}
        for name, target in targets.items():
            processed = self.views[name].processed()
            if processed < target:
                short[name] = (processed, target)
                self.views[name].nudge()
        return short

    def upstream_heads(self) -> dict[str, int]:
        """The head of every log this service follows, read now from the upstream's own database."""
        return {name: view.head() for name, view in self.views.items() if not view.own}

    async def wait_for(self, targets: dict[str, int]) -> None:
        """Return once every log reached its target; 503 ``follower-behind`` after the bound."""
        deadline = time.monotonic() + self.wait_seconds
        while short := await run_in_threadpool(self.missing, targets):
            if time.monotonic() >= deadline:
                raise behind(short, self.wait_seconds)
            await asyncio.sleep(POLL_SECONDS)

    async def as_of_now(self) -> None:
        """Authority as of now: wait until every followed log is processed up to its current head."""
        await self.wait_for(await run_in_threadpool(self.upstream_heads))


def behind(short: dict[str, tuple[int, int]], waited: float) -> FollowerBehind:
    summary = ", ".join(f"{name} at {processed} of {target}" for name, (processed, target) in sorted(short.items()))
    return FollowerBehind(
        f"After waiting {waited:g} s this service has not processed the log positions required ({summary}); "
        "retry after Retry-After seconds.",
        headers={"Retry-After": "1"},
        behind={name: {"processed": processed, "required": target} for name, (processed, target) in short.items()},
    )
