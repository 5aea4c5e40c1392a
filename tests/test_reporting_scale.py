"""``?as_of=`` over a 100,000-event log answers exactly what a replay from position zero answers, at 20 random
moments: the inventory's first page and a page in the middle (with the count and positions), and the public
record of a project registered by then. The history tables answer; the replay folds every event again."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.common import establish_ministry
from bench.dataset import populate
from services.registry.application import RegistryApplication
from services.reporting import periodic, reports
from services.reporting.projection import Projection
from shared import logrows
from shared.pagination import encode_cursor
from shared.settings import Settings
from tests.conftest import fresh_url
from tests.support import ServiceStack, migrated, wait_for

EVENTS = 100_000
MOMENTS = 20
PAGE = 100


def expected_at(state: Projection, moment: datetime, rng: random.Random) -> dict[str, Any]:
    """What a replay from zero answers at ``moment``: two inventory pages and one public record."""
    items = reports.inventory(state)
    middle = rng.randrange(len(items)) if items else None
    project = rng.choice(items)["project_id"] if items else None
    return {
        "moment": moment,
        "positions": dict(state.positions),
        "count": len(items),
        "first": items[:PAGE],
        "cursor": encode_cursor((items[middle]["registered_at"], items[middle]["project_id"])) if items else None,
        "middle": items[middle + 1 : middle + 1 + PAGE] if items else [],
        "project": project,
        "record": periodic.public_record(state, project) if project else None,
    }


def replay_at_moments(app: RegistryApplication, moments: list[datetime], seed: int) -> list[dict[str, Any]]:
    """One pass from position zero, taking the answers at each moment as the fold passes it."""
    rng, state, answers, pending = random.Random(seed), Projection(), [], list(moments)
    for entry in logrows.iter_envelopes(app):
        occurred = datetime.fromisoformat(entry["occurred_at"])
        while pending and pending[0] < occurred:
            answers.append(expected_at(state, pending.pop(0), rng))
        state.apply(entry)
    answers.extend(expected_at(state, moment, rng) for moment in pending)
    return answers


@pytest.mark.slow
def test_as_of_over_a_100000_event_log_equals_a_replay_from_zero(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = migrated(fresh_url(backend, tmp_path, request))
    registry = RegistryApplication(url)
    populate(registry, establish_ministry(url), EVENTS - 1)
    head = registry.head_position()
    ends = (logrows.envelopes(registry, 0, 1)[0], logrows.envelopes(registry, head - 1, 1)[0])
    first, last = (datetime.fromisoformat(entry["occurred_at"]) for entry in ends)
    rng = random.Random(14)
    span = (last - first) // timedelta(microseconds=1)
    moments = sorted(
        first + timedelta(microseconds=rng.randrange(-span // 20, span + span // 20)) for _ in range(MOMENTS)
    )
    answers = replay_at_moments(registry, moments, seed=14)
    assert len({answer["count"] for answer in answers}) > MOMENTS // 2, "the moments must differ"

    stack = ServiceStack(url, tmp_path)
    try:
        stack.start("reporting")
        settings = Settings(database_url=url, var_dir=tmp_path)
        from services.reporting.readmodel import ReportingStore

        store = ReportingStore(settings)
        wait_for(lambda: store.positions()["registry"] == head, timeout=600, interval=0.5)
        client = stack.client("reporting", stack.token("aud", ["auditor"]))
        for answer in answers:
            at = answer["moment"].isoformat()
            first_page = client.get("/v1/inventory", params={"as_of": at, "limit": PAGE}).json()
            assert first_page["items"] == answer["first"], at
            assert (first_page["count"], first_page["positions"]) == (answer["count"], answer["positions"]), at
            if answer["cursor"] is None:
                continue
            middle = client.get("/v1/inventory", params={"as_of": at, "limit": PAGE, "cursor": answer["cursor"]})
            assert middle.json()["items"] == answer["middle"], at
            record = client.get(f"/v1/projects/{answer['project']}/public-record", params={"as_of": at})
            assert record.json() == answer["record"], at
    finally:
        stack.stop_all()
