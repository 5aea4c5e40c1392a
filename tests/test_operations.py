"""Operations: readiness, Prometheus metrics, JSON logs that follow one request across all three services."""

from __future__ import annotations

import json
import uuid

from tests.support import SERVICES, ServiceStack, new_ministry_code, project_body, wait_for


def test_every_service_is_ready_and_serves_metrics(stack: ServiceStack) -> None:
    for service in SERVICES:
        ready = stack.client(service).get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"] == "ok" and ready.json()["checks"]["schema"] == "ok"
    root = stack.client("registry", stack.token("root", ["admin"]))
    assert root.post("/v1/ministries", json={"code": new_ministry_code(), "name": "M"}).status_code == 201
    registry_metrics = stack.client("registry").get("/metrics").text
    assert 'aigov_events_appended_total{service="registry",type="MinistryEstablished"}' in registry_metrics
    assert (
        'aigov_http_request_duration_seconds_count{method="POST",route="/v1/ministries",service="registry",status="201"}'
        in registry_metrics
    )
    assert "aigov_db_pool_connections_in_use" in registry_metrics
    reporting_metrics = stack.client("reporting").get("/metrics").text
    assert (
        'aigov_follower_lag_events{upstream="registry"}' in reporting_metrics
        and 'aigov_follower_lag_seconds{upstream="risk"}' in reporting_metrics
    )
    risk_metrics = stack.client("risk").get("/metrics").text
    assert 'aigov_follower_position{upstream="registry"}' in risk_metrics


def test_one_request_can_be_followed_through_all_three_services_logs(stack: ServiceStack) -> None:
    code = new_ministry_code()
    assert (
        stack.client("registry", stack.token("root", ["admin"]))
        .post("/v1/ministries", json={"code": code, "name": "M"})
        .status_code
        == 201
    )
    request_id = f"trace-{uuid.uuid4()}"
    planner = stack.client("registry", stack.token("alice", ["planner"], code))
    assert (
        planner.post("/v1/projects", json=project_body(code), headers={"X-Request-ID": request_id}).status_code == 201
    )

    def logged_everywhere() -> bool:
        for service in SERVICES:
            lines = (stack.var_dir / f"{service}.log").read_text().splitlines()
            records = [json.loads(line) for line in lines if line.startswith("{")]
            if not any(record.get("correlation_id") == request_id for record in records):
                return False
        return True

    assert wait_for(logged_everywhere, timeout=10)
