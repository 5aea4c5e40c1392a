"""Reporting's OpenAPI examples: the read models as they stand once the registry's enquiry assistant is in
operation (classified high, advised with conditions, decided, one incident closed), next to a second MIC
project whose assessment waits for the CAIO's classification.

CSV and HTML examples come from the service's own formatters, and the checkpoints are really signed with a
key derived from a published seed (``EXAMPLE_KEY``, never used by a service), so an integrator can run their
verification code against the document.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.registry.examples import (
    AMENDMENT,
    CAIO,
    DETAILS,
    MINISTRY,
    MINISTRY_EVENTS,
    PLANNER,
    PROCUREMENT,
    PROJECT_EVENTS,
    PROJECT_ID,
    PROJECT_TITLE,
    REGISTERED_AT,
    REPORT_SUBMITTED,
    USAGE_RULES,
)
from services.reporting import periodic, public, submissions
from services.risk.examples import (
    ADVICE_IN,
    ASSESSMENT_ID,
    BECAME_DUE,
    CLASSIFICATION_REASONS,
    CLASSIFIED_AT,
    CLASSIFIED_EVENTS,
    DECISION,
    INCIDENT_ID,
    INCIDENT_IN,
    REEVALUATION_DUE_AT,
    SCREENING,
    SUBMISSION_ID,
)
from shared.checkpoints import key_id, public_pem, sign
from shared.export import checkpoint_line, event_line
from shared.openapi_examples import OperationExamples, health_examples, illustrative_hash, page

POSITIONS = {"registry": 214, "risk": 389}
EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"aigov OpenAPI example signing key").digest())
CHECKPOINTS_AT = "2026-10-31T15:00:00.412907+00:00"
OPERATION_AT = "2026-08-03T00:30:12.907114+00:00"
SUBMITTED_AT = "2026-07-01T02:00:41.265830+00:00"
ADVISED_AT = "2026-07-16T06:12:03.551472+00:00"
DECIDED_AT = "2026-07-22T01:45:19.038265+00:00"
INCIDENT_RECORDED_AT = "2026-09-14T03:02:55.180644+00:00"

MEMO_ID = "8a1d5e2f-6b3c-4d7e-9f0a-1b2c3d4e5f60"
MEMO_ASSESSMENT_ID = "c4f8a2b6-0d1e-4f3a-8b5c-7d9e1f2a3b4c"
MEMO_TITLE = "Internal memo drafting aid"
ITEM = {
    "project_id": PROJECT_ID,
    "ministry": "MIC",
    "title": PROJECT_TITLE,
    "stage": "operation",
    "risk_status": "classified_high",
    "classification": "high",
    "board_status": "decided",
    "caio": CAIO,
    "incidents": 1,
    "registered_at": REGISTERED_AT,
    "updated_at": OPERATION_AT,
}
MEMO_ITEM = {
    "project_id": MEMO_ID,
    "ministry": "MIC",
    "title": MEMO_TITLE,
    "stage": "development",
    "risk_status": "in_progress",
    "classification": None,
    "board_status": "not_required",
    "caio": CAIO,
    "incidents": 0,
    "registered_at": "2026-07-06T04:21:37.772015+00:00",
    "updated_at": "2026-09-01T00:15:48.301127+00:00",
}
ADVICE = ADVICE_IN | {"at": ADVISED_AT}
DECISION_RECORDED = DECISION | {"at": DECIDED_AT}
INCIDENT = {
    "id": INCIDENT_ID,
    "occurred_at": INCIDENT_IN["occurred_at"],
    "recorded_at": INCIDENT_RECORDED_AT,
    "severity": INCIDENT_IN["severity"],
    "harm": INCIDENT_IN["harm"],
    "what_happened": INCIDENT_IN["what_happened"],
    "reported_to_digital_agency": "2026-09-14T08:40:26.615093+00:00",
    "closed": "2026-10-02T05:11:09.347760+00:00",
}
AMENDED_DETAILS = DETAILS | AMENDMENT
PROJECT_STATE = {
    "project_id": PROJECT_ID,
    "registry": {
        "ministry": "MIC",
        "title": PROJECT_TITLE,
        "stage": "operation",
        "details": AMENDED_DETAILS,
        "procurement": PROCUREMENT,
        "registered_at": REGISTERED_AT,
        "updated_at": OPERATION_AT,
        "registered_by": PLANNER[0],
    },
    "risk": {
        "status": "classified_high",
        "classification": "high",
        "classified_at": CLASSIFIED_AT,
        "expires_at": REEVALUATION_DUE_AT,
        "override": False,
        "assessment": {
            "id": ASSESSMENT_ID,
            "state": "classified",
            "ruleset": "jp-genai-2.0@1",
            "likely_high_risk": SCREENING["likely_high_risk"],
            "level": SCREENING["level"],
            "high_viewpoints": SCREENING["high_viewpoints"],
        },
        "stale_causes": [],
        "reasons": CLASSIFICATION_REASONS,
    },
    "board": {
        "status": "decided",
        "submission_id": SUBMISSION_ID,
        "submitted_at": SUBMITTED_AT,
        "advice": ADVICE,
        "decision": DECISION_RECORDED,
        "drafts": [SUBMISSION_ID],
    },
    "incidents": [INCIDENT],
    "caio": CAIO,
    "positions": POSITIONS,
}
PERIODIC_REPORT: dict[str, Any] = {
    "ministry": "MIC",
    "ministry_name": MINISTRY["name"],
    "period": "2026H2",
    "period_start": "2026-07-01T00:00:00+00:00",
    "period_end": "2027-01-01T00:00:00+00:00",
    "caio": CAIO,
    "systems": [
        ITEM | {"classification_stale": False, "incidents_in_period": 1, "severe_incidents_in_period": 0},
        MEMO_ITEM | {"classification_stale": False, "incidents_in_period": 0, "severe_incidents_in_period": 0},
    ],
    "by_stage_and_risk": {stage: dict.fromkeys(periodic.RISK_GROUPS, 0) for stage in periodic.STAGES},
    "incidents_in_period": 1,
    "severe_incidents_in_period": 0,
    "stale_classifications": 0,
    "usage_rules": USAGE_RULES | {"position": 12},
    "as_of": REPORT_SUBMITTED["as_of"],
    "positions": POSITIONS,
}
PERIODIC_REPORT["by_stage_and_risk"]["operation"]["classified_high"] = 1  # the enquiry assistant
PERIODIC_REPORT["by_stage_and_risk"]["development"]["other"] = 1  # the memo drafting aid, still in evaluation
PERIODIC_REPORT = periodic.with_content_hash(PERIODIC_REPORT)
USAGE_RULES_DOC = USAGE_RULES | {"position": 12}
PUBLIC_USAGE_RULES = {key: USAGE_RULES_DOC[key] for key in submissions.PUBLIC_USAGE_RULES_FIELDS}
SUBMITTED = REPORT_SUBMITTED | {"content_hash": PERIODIC_REPORT["content_hash"], "position": 220}
PUBLIC_RECORD = {
    "project_id": PROJECT_ID,
    "tier_1": {
        "name": PROJECT_TITLE,
        "ministry": "MIC",
        "stage": "operation",
        "contact": DETAILS["owner"],
        "summary": (
            f"{PROJECT_TITLE}: {DETAILS['objectives']} It is used by members of the public. Staff "
            "check every output before it is used."
        ),
    },
    "tier_2": {
        "owner": {"ministry": "MIC", "owner": DETAILS["owner"], "chief_ai_officer": CAIO},
        "purpose": {key: DETAILS[key] for key in ("objectives", "description", "business_area", "nature_of_work")},
        "data": DETAILS["data"],
        "models": DETAILS["models"],
        "human_oversight": {"human_review": AMENDED_DETAILS["human_review"], "users": DETAILS["users"]},
        "risks": {
            "status": "classified_high",
            "classification": "high",
            "advisory_board": "decided",
            "board_advice": ADVICE["opinion"],
            "decision": DECISION["decision"],
        },
    },
    "positions": POSITIONS,
}
INVENTORY_CSV = (
    "project_id,ministry,title,stage,risk_status,classification,board_status,caio_officer_id,caio_name,incidents,registered_at,updated_at\n"
    f"{PROJECT_ID},MIC,{PROJECT_TITLE},operation,classified_high,high,decided,{CAIO['officer_id']},{CAIO['name']},1,{REGISTERED_AT},{OPERATION_AT}\n"
    f"{MEMO_ID},MIC,{MEMO_TITLE},development,in_progress,,not_required,{CAIO['officer_id']},{CAIO['name']},0,{MEMO_ITEM['registered_at']},{MEMO_ITEM['updated_at']}\n"
)
PUBLISHED_AT = "2026-08-03T01:02:03.456789+00:00"
PUBLISHED_RECORD = {
    "name": PROJECT_TITLE,
    "summary": DETAILS["objectives"],
    "ministry": "MIC",
    "stage": "operation",
    "contact": DETAILS["owner"],
    "human_review": AMENDED_DETAILS["human_review"],
    "description": DETAILS["description"],
    "business_area": DETAILS["business_area"],
    "nature_of_work": DETAILS["nature_of_work"],
    "users": DETAILS["users"],
    "data": DETAILS["data"],
    "models": DETAILS["models"],
    "vendor": {"withheld": True, "reason": "commercial_confidentiality", "text": None},
    "chief_ai_officer": CAIO["name"],
    "risk_classification": "high",
    "classification_current": True,
    "board_advice_recorded": True,
    "decision": DECISION["decision"],
}
PUBLISHED_DOC = {
    "project_id": PROJECT_ID,
    "registry": {
        "registered_at": REGISTERED_AT,
        "version": 9,
        "publications": [
            {
                "publication": 1,
                "published_at": PUBLISHED_AT,
                "project_version": 9,
                "log": {"service": "registry", "position": 118, "hash": illustrative_hash("registry", 118)},
                "record": PUBLISHED_RECORD,
                "withheld": [{"field": "vendor", "reason": "commercial_confidentiality", "text": None}],
            }
        ],
    },
}
PUBLIC_REGISTER_ITEMS = [public.register_item(PUBLISHED_DOC)]
SIGNED = [
    sign(EXAMPLE_KEY, service, head, illustrative_hash(service, head), CHECKPOINTS_AT)
    for service, head in POSITIONS.items()
]
CHECKPOINTS = [checkpoint.as_dict() for checkpoint in SIGNED]


def report(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A list report: the positions it reflects, live (no as_of), all on one page."""
    return {"positions": POSITIONS, "as_of": None, "count": len(items), **page(items, None, None)}


def export_lines() -> str:
    """The first events of the registry log, then a signed checkpoint per log (an export is every event)."""
    events = []
    for entry in MINISTRY_EVENTS:
        meta = {"_type_": "event_meta", "_data_": entry["meta"]}
        state = {"timestamp": {"_type_": "datetime_iso", "_data_": entry["occurred_at"]}, **entry["data"], "meta": meta}
        stored = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
        events.append(
            event_line(
                "registry",
                entry["position"],
                entry["aggregate_id"],
                entry["aggregate_version"],
                entry["topic"],
                stored,
                entry["hash"],
            )
        )
    return "".join(line + "\n" for line in events + [checkpoint_line(checkpoint) for checkpoint in SIGNED])


EXAMPLES: dict[str, OperationExamples] = {
    **health_examples(followed=("registry", "risk")),
    "get_inventory": OperationExamples(response=report([ITEM, MEMO_ITEM])),
    "get_inventory_csv": OperationExamples(texts={"text/csv": INVENTORY_CSV}),
    "get_high_risk_register": OperationExamples(
        response=report(
            [
                ITEM
                | {
                    "classified_at": CLASSIFIED_AT,
                    "submission": {"id": SUBMISSION_ID, "submitted_at": SUBMITTED_AT},
                    "advice": ADVICE,
                    "decision": DECISION_RECORDED,
                }
            ]
        )
    ),
    "get_pending": OperationExamples(
        response=report(
            [
                {
                    "project_id": MEMO_ID,
                    "title": MEMO_TITLE,
                    "project_ministry": "MIC",
                    "what": f"classification of assessment {MEMO_ASSESSMENT_ID}",
                    "role": "caio",
                    "ministry": "MIC",
                }
            ]
        )
    ),
    "get_periodic_report": OperationExamples(response=PERIODIC_REPORT),
    "get_periodic_report_csv": OperationExamples(
        texts={"text/csv": periodic.as_csv(PERIODIC_REPORT["systems"], periodic.CSV_COLUMNS)}
    ),
    "get_periodic_report_html": OperationExamples(texts={"text/html": periodic.as_html(PERIODIC_REPORT)}),
    "get_public_record": OperationExamples(response=PUBLIC_RECORD),
    "get_project_timeline": OperationExamples(
        response={
            "project_id": PROJECT_ID,
            "as_of": None,
            "events": [PROJECT_EVENTS[0], BECAME_DUE, *PROJECT_EVENTS[1:], *CLASSIFIED_EVENTS],
        }
    ),
    "get_project_state": OperationExamples(response={"positions": POSITIONS, "as_of": None, "project": PROJECT_STATE}),
    "export_audit_log": OperationExamples(texts={"application/x-ndjson": export_lines()}),
    "list_checkpoints": OperationExamples(response=page(CHECKPOINTS, None, None)),
    "take_checkpoints": OperationExamples(response=CHECKPOINTS),
    "list_public_projects": OperationExamples(response={**page(PUBLIC_REGISTER_ITEMS, None, None), "language": "en"}),
    "get_public_projects_csv": OperationExamples(texts={"text/csv": public.as_csv(PUBLIC_REGISTER_ITEMS, "en")}),
    "get_public_projects_html": OperationExamples(
        texts={"text/html": public.index_html(PUBLIC_REGISTER_ITEMS, None, "en")}
    ),
    "get_public_project_html": OperationExamples(
        texts={"text/html": public.project_html(PUBLISHED_DOC, public.project(PUBLISHED_DOC, "en"), "en")}
    ),
    "get_public_project": OperationExamples(response=public.project(PUBLISHED_DOC, "en")),
    "get_public_project_version": OperationExamples(
        response=public.version(PUBLISHED_DOC, PUBLISHED_DOC["registry"]["publications"][0], "en")
    ),
    "get_public_key": OperationExamples(
        response={
            "key_id": key_id(EXAMPLE_KEY.public_key()),
            "algorithm": "Ed25519",
            "public_key_pem": public_pem(EXAMPLE_KEY.public_key()),
        }
    ),
    "get_periodic_submissions": OperationExamples(
        response={
            "positions": POSITIONS,
            "as_of": None,
            "period": "2026H2",
            "count": 2,
            "items": [
                {
                    "ministry": "MHLW",
                    "ministry_name": "Ministry of Health, Labour and Welfare",
                    "status": "not_submitted",
                    "submission": None,
                    "out_of_date": None,
                },
                {
                    "ministry": "MIC",
                    "ministry_name": MINISTRY["name"],
                    "status": "out_of_date",
                    "submission": SUBMITTED,
                    "out_of_date": {
                        "since": "2026-12-29T02:11:40.118204+00:00",
                        "service": "registry",
                        "position": 223,
                    },
                },
            ],
            "next_cursor": None,
            "next": None,
        }
    ),
    "get_submitted_periodic_report": OperationExamples(response=PERIODIC_REPORT),
    "get_usage_rules_in_force": OperationExamples(
        response={
            "positions": POSITIONS,
            "as_of": None,
            "ministry": "MIC",
            "in_force_at": REPORT_SUBMITTED["as_of"],
            "in_force": USAGE_RULES_DOC,
            "versions": [USAGE_RULES_DOC],
        }
    ),
    "get_public_usage_rules": OperationExamples(
        response={
            "ministry": "MIC",
            "ministry_name": MINISTRY["name"],
            "in_force_at": REPORT_SUBMITTED["as_of"],
            "in_force": PUBLIC_USAGE_RULES,
            "versions": [PUBLIC_USAGE_RULES],
        }
    ),
}
