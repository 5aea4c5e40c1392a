"""A closed-loop HTTP load generator (httpx + asyncio) run in the benchmark's own process.

Closed loop: each of N clients sends its next request when the previous answer arrives, so N is the number
of requests in flight and throughput/latency are what a server sustains at that concurrency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.common import latency_summary

Body = Callable[[int], dict[str, Any]]


async def _client(
    client: httpx.AsyncClient,
    path: str,
    body: Body,
    until: float,
    warm_until: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    number = 0
    while (now := time.perf_counter()) < until:
        number += 1
        response = await client.post(path, json=body(number))
        done = time.perf_counter()
        if response.status_code >= 300:
            errors.append(response.status_code)
        elif now >= warm_until:
            latencies.append((done - now) * 1000)


async def _run(
    base_url: str, path: str, headers: dict[str, str], body: Body, clients: int, seconds: float, warmup: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[int] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        warm_until, until = started + warmup, started + warmup + seconds
        await asyncio.gather(
            *(_client(client, path, body, until, warm_until, latencies, errors) for _ in range(clients))
        )
        measured = time.perf_counter() - warm_until
    return {
        "clients": clients,
        "seconds": round(measured, 2),
        "commands_per_s": round(len(latencies) / measured, 1),
        "errors": len(errors),
        **latency_summary(latencies),
    }


def run_load(
    base_url: str,
    path: str,
    headers: dict[str, str],
    body: Body,
    clients: int,
    seconds: float = 3.0,
    warmup: float = 0.5,
) -> dict[str, Any]:
    """Throughput and latency percentiles of ``clients`` concurrent POST loops for ``seconds`` after a warm-up."""
    return asyncio.run(_run(base_url, path, headers, body, clients, seconds, warmup))
