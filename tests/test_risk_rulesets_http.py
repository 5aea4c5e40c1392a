"""Rulesets are versioned data: publishing a new version rescores nothing, and old assessments replay unchanged.

A module of its own: publishing version 2 changes what new assessments are pinned to."""

from __future__ import annotations

from services.risk import evaluation
from services.risk.application import RiskApplication
from tests.support import ServiceStack
from tests.support.scenarios import (
    HIGH_RISK,
    LOW_RISK,
    RULESET,
    Ministry,
    answers,
    assert_problem,
    assess,
    head,
    ruleset_content,
    version_2,
)


def test_publishing_version_2_rescoring_and_replaying_version_1(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    sampled = assess(ministry, ministry.register(), answers("staff_only", "internal_support", "none", "sampled"))
    unchanged_low = assess(ministry, ministry.register(), LOW_RISK)
    unchanged_high = assess(ministry, ministry.register(users="public"), HIGH_RISK)
    assert sampled["screening"]["likely_high_risk"] is False

    admin = stack.client("risk", stack.token("root", ["admin"]))
    listed = {(item["ruleset_id"], item["version"]) for item in admin.get("/v1/rulesets").json()["items"]}
    assert {(RULESET, 1), ("ca-aia-example", 1)} <= listed

    v1 = ruleset_content(stack, 1)
    before = head(stack, "risk")
    assert_problem(ministry.planner.post("/v1/rulesets", json=version_2(v1)), 403)
    assert_problem(
        admin.post("/v1/rulesets", json={**version_2(v1), "levels": [{"name": "I", "up_to": 0.5}]}), 422, "body.levels"
    )
    assert_problem(admin.post("/v1/rulesets", json={**v1, "title": "Same version, other content"}), 409)
    assert head(stack, "risk") == before

    published = admin.post("/v1/rulesets", json=version_2(v1))
    assert published.status_code == 201 and published.json()["version"] == 2
    assert published.json()["content_hash"] != admin.get(f"/v1/rulesets/{RULESET}/versions/1").json()["content_hash"]

    after_publish = head(stack, "risk")
    rescored = admin.post(f"/v1/rulesets/{RULESET}/versions/2/rescore")
    assert rescored.status_code == 200
    changes = rescored.json()["changes"]
    assert [change["assessment_id"] for change in changes] == [sampled["id"]]
    assert (
        changes[0]["before"] == {"likely_high_risk": False, "level": "I"}
        and changes[0]["after"]["likely_high_risk"] is True
    )
    assert head(stack, "risk") == after_publish  # a dry run writes nothing

    risk = RiskApplication(stack.database_url)
    for stored in (sampled, unchanged_low, unchanged_high):
        assessment = risk.assessment(stored["id"])
        assert assessment.ruleset_version == 1
        assert (
            evaluation.screen(risk.pinned_ruleset(assessment), assessment.answers, assessment.mitigations)
            == stored["screening"]
        )

    pinned_to_new = ministry.planner.post(
        f"/v1/projects/{ministry.register()}/assessments", json={"ruleset_id": RULESET}
    ).json()
    assert pinned_to_new["ruleset_version"] == 2
    assert pinned_to_new["ruleset_hash"] == published.json()["content_hash"]
