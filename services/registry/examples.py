"""The registry's OpenAPI examples: the Ministry of Internal Affairs and Communications, its Chief AI Officer,
and one generative-AI project moving from planning through procurement into development.

The project, its people and its moments are constants the risk and reporting examples reuse, so the three
documents tell one consistent story.
"""

from __future__ import annotations

import hashlib
from typing import Any

from services.registry import sheets as checksheets
from services.registry.contract import SheetKind, text_hash
from services.registry.domain import Ministry, Stage, allowed_transitions
from shared.openapi_examples import Actor, OperationExamples, health_examples, log_entry, log_examples, page
from shared.pagination import encode_cursor

MINISTRY = {"code": "MIC", "name": "Ministry of Internal Affairs and Communications"}
MINISTRY_ID = str(Ministry.create_id("MIC"))
CAIO = {"officer_id": "mic-caio-001", "name": "Sato Hanako"}
PREVIOUS_CAIO = {"officer_id": "mic-caio-000", "name": "Tanaka Makoto"}
ADMIN: Actor = ("da-admin-003", "Kobayashi Ryo", "admin", None)
PLANNER: Actor = ("mic-planner-014", "Suzuki Ichiro", "planner", "MIC")
CAIO_ACTOR: Actor = (CAIO["officer_id"], CAIO["name"], "caio", "MIC")

ESTABLISHED_AT = "2025-06-02T00:02:11.204118+00:00"
FIRST_DESIGNATED_AT = "2025-06-02T00:04:37.660512+00:00"
DESIGNATED_AT = "2026-04-01T00:07:45.918337+00:00"
REGISTERED_AT = "2026-04-15T01:12:09.551203+00:00"
PROCUREMENT_AT = "2026-05-20T05:40:31.002417+00:00"
PROCUREMENT_RECORDED_AT = "2026-06-03T02:18:44.730915+00:00"
DEVELOPMENT_AT = "2026-06-10T00:55:03.118640+00:00"
AMENDED_AT = "2026-06-17T07:31:26.442098+00:00"
PUBLISHED_AT = "2026-06-20T01:05:12.334455+00:00"

PROJECT_ID = "3f6c2a9e-8d41-4b7a-9c5e-2b7d4e1f0a93"
PROJECT_TITLE = "Administrative counselling enquiry assistant"
DETAILS: dict[str, Any] = {
    "title": PROJECT_TITLE,
    "objectives": (
        "Answer citizens' routine questions about administrative procedures around the clock, and "
        "hand complex cases to a counsellor."
    ),
    "description": (
        "A chat assistant on the MIC website that answers only from published guidance on "
        "administrative procedures (retrieval-augmented generation), cites its sources, and "
        "offers a hand-over to an administrative counsellor in every answer."
    ),
    "business_area": "Administrative counselling",
    "users": "public",
    "models": [{"provider": "Example Cloud KK", "model": "example-llm-ja-large", "deployment": "saas_api"}],
    "data": {"confidentiality": "internal", "personal_data": False},
    "expected_users": 120000,
    "owner": "Administrative Evaluation Bureau, Administrative Counselling Division",
    "nature_of_work": "public_information",
    "human_review": "sampled",
}
EXAMPLE_FACTS = checksheets.ProjectFacts.of(DETAILS, None)
PROCUREMENT_SHEET = checksheets.load_shipped("jp-procurement-2.0", 1)
CONTRACT_SHEET = checksheets.load_shipped("jp-contract-2.0", 1)
LOGS_KEPT_SHORT = "C-LOG-01"


def answered_in_full(sheet: checksheets.CheckSheet, not_met: str | None = None) -> dict[str, Any]:
    """The example project's answers to one sheet: every item that applies to it, ``not_met`` the one it misses."""
    return {
        "sheet_id": sheet.id,
        "version": sheet.version,
        "answers": [
            {
                "item": item,
                "answer": "not_met" if item == not_met else "met",
                "note": "The vendor keeps logs for 90 days, not one year." if item == not_met else "",
                "evidence": f"Specification MIC-AEB-2026-0042, {item}",
                "reason": None,
            }
            for item in checksheets.applicable_ids(sheet, EXAMPLE_FACTS)
        ],
    }


ANSWERED_SHEETS = {
    SheetKind.procurement: answered_in_full(PROCUREMENT_SHEET),
    SheetKind.contract: answered_in_full(CONTRACT_SHEET, LOGS_KEPT_SHORT),
}
PROCUREMENT_REQUEST: dict[str, Any] = {
    "vendor": "Example Cloud KK",
    "contract_reference": "MIC-AEB-2026-0042",
    **{f"{kind.value}_sheet": answers for kind, answers in ANSWERED_SHEETS.items()},
}
PROCUREMENT: dict[str, Any] = {
    "vendor": "Example Cloud KK",
    "contract_reference": "MIC-AEB-2026-0042",
    **{
        f"{kind.value}_checks": [
            {"item": answer["item"], "answer": answer["answer"], "note": answer["note"]} for answer in body["answers"]
        ]
        for kind, body in ANSWERED_SHEETS.items()
    },
}


def sheets_answered_payload() -> dict[str, Any]:
    """The CheckSheetsAnswered the request above records: the sheets pinned by content hash, each one's status."""
    pinned = {SheetKind.procurement: PROCUREMENT_SHEET, SheetKind.contract: CONTRACT_SHEET}
    return {
        "vendor": PROCUREMENT["vendor"],
        "contract_reference": PROCUREMENT["contract_reference"],
        "sheets": [
            {"kind": kind.value, **body, "content_hash": checksheets.content_hash(pinned[kind])}
            for kind, body in ANSWERED_SHEETS.items()
        ],
        "status": [
            checksheets.status(
                kind,
                pinned[kind],
                checksheets.Answered({answer["item"]: answer for answer in body["answers"]}, frozenset()),
                EXAMPLE_FACTS,
            ).model_dump(mode="json")
            for kind, body in ANSWERED_SHEETS.items()
        ],
    }


AMENDMENT = {"expected_users": 150000, "human_review": "every_output"}
FIRST_DESIGNATION_REASON = "First designation under the government's guideline on generative AI."
DESIGNATION_REASON = (
    "Personnel change of 1 April 2026: the Director-General for Digital Transformation is designated CAIO."
)
TRANSITION_REASON = "Contract MIC-AEB-2026-0042 signed; development starts."


def ministry(version: int, caio: dict[str, str] | None) -> dict[str, Any]:
    return {**MINISTRY, "caio": caio, "version": version}


def project(
    version: int, stage: Stage, updated_at: str, procurement: dict[str, Any] | None, details: dict[str, Any] = DETAILS
) -> dict[str, Any]:
    """The project as the registry returns it, at one version."""
    return {
        "id": PROJECT_ID,
        "version": version,
        "ministry": MINISTRY["code"],
        "stage": stage.value,
        "allowed_transitions": [allowed.value for allowed in allowed_transitions(stage, None)],
        "details": details,
        "procurement": procurement,
        "registered_at": REGISTERED_AT,
        "updated_at": updated_at,
    }


def designation(
    officer: dict[str, str], designated_at: str, reason: str, ended: tuple[str, str] | None
) -> dict[str, Any]:
    """One CAIO designation; ``ended`` is (when, why) for a designation a successor replaced."""
    ended_at, end_reason = ended or (None, None)
    ended_by, ended_how = (ADMIN[0], "replaced") if ended else (None, None)
    return {
        **officer,
        "designated_at": designated_at,
        "designated_by": ADMIN[0],
        "reason": reason,
        "ended_at": ended_at,
        "ended_by": ended_by,
        "end_reason": end_reason,
        "ended_how": ended_how,
    }


def project_event(
    position: int, topic: str, version: int, occurred_at: str, reason: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    return log_entry(
        "registry",
        position,
        f"services.registry.domain:Project.{topic}",
        (PROJECT_ID, version),
        occurred_at,
        PLANNER,
        reason,
        data,
    )


PROJECT_EVENTS = [
    project_event(
        41,
        "ProjectRegistered",
        1,
        REGISTERED_AT,
        None,
        {"originator_topic": "services.registry.domain:Project", "ministry": "MIC", "details": DETAILS},
    ),
    project_event(
        57,
        "ProjectStageChanged",
        2,
        PROCUREMENT_AT,
        "FY2026 budget approved; procurement starts.",
        {"from_stage": "planning", "to_stage": "procurement"},
    ),
    project_event(63, "CheckSheetsAnswered", 3, PROCUREMENT_RECORDED_AT, None, sheets_answered_payload()),
    project_event(
        70,
        "ProjectStageChanged",
        4,
        DEVELOPMENT_AT,
        TRANSITION_REASON,
        {"from_stage": "procurement", "to_stage": "development"},
    ),
]
MINISTRY_EVENTS = [
    log_entry(
        "registry",
        1,
        "services.registry.domain:Ministry.MinistryEstablished",
        (MINISTRY_ID, 1),
        ESTABLISHED_AT,
        ADMIN,
        None,
        {"originator_topic": "services.registry.domain:Ministry", **MINISTRY},
    ),
    log_entry(
        "registry",
        2,
        "services.registry.domain:Ministry.ChiefAIOfficerDesignated",
        (MINISTRY_ID, 2),
        FIRST_DESIGNATED_AT,
        ADMIN,
        FIRST_DESIGNATION_REASON,
        {**PREVIOUS_CAIO, "previous_officer_id": None},
    ),
]
PROJECT_SUMMARY = {
    "id": PROJECT_ID,
    "ministry": "MIC",
    "title": PROJECT_TITLE,
    "stage": "development",
    "version": 4,
    "updated_at": DEVELOPMENT_AT,
}
PROJECTS_CURSOR = encode_cursor((REGISTERED_AT, PROJECT_ID))
MINISTRIES_CURSOR = encode_cursor(("MIC",))

USAGE_RULES_TEXT = (
    "1. Staff may use the ministry's approved generative-AI services for drafting, summarising and search.\n"
    "2. Confidential or personal information is entered only into services approved for it.\n"
    "3. Staff check every output before it is used, and remain responsible for it."
)
USAGE_RULES_ISSUED_AT = "2026-03-25T01:15:07.204518+00:00"
USAGE_RULES_REQUEST = {
    "title": "MIC rules for staff use of generative AI",
    "text": USAGE_RULES_TEXT,
    "effective_from": "2026-04-01",
    "reason": "Rules issued under the government's guideline on generative AI, version 2.0.",
}
USAGE_RULES = {
    "ministry": "MIC",
    "version": 1,
    "title": USAGE_RULES_REQUEST["title"],
    "text": USAGE_RULES_TEXT,
    "reference": None,
    "content_hash": text_hash(USAGE_RULES_TEXT),
    "effective_from": "2026-04-01",
    "issued_at": USAGE_RULES_ISSUED_AT,
    "issued_by": CAIO["officer_id"],
    "issued_by_name": CAIO["name"],
    "reason": USAGE_RULES_REQUEST["reason"],
}
REPORT_HASH = "sha256:" + hashlib.sha256(b"aigov example periodic report MIC 2026H2").hexdigest()
REPORT_SUBMISSION = {
    "content_hash": REPORT_HASH,
    "positions": {"registry": 214, "risk": 389},
    "as_of": "2026-12-28T09:00:00+09:00",
    "reason": "Periodic report for the second half of 2026 to the Digital Agency.",
}
REPORT_SUBMITTED = {
    "ministry": "MIC",
    "period": "2026H2",
    "content_hash": REPORT_HASH,
    "positions": REPORT_SUBMISSION["positions"],
    "as_of": "2026-12-28T09:00:00+09:00",
    "submitted_at": "2026-12-28T00:04:31.772015+00:00",
    "submitted_by": CAIO["officer_id"],
    "submitted_by_name": CAIO["name"],
    "reason": REPORT_SUBMISSION["reason"],
}

EXAMPLES: dict[str, OperationExamples] = {
    **health_examples(followed=("risk",)),
    **log_examples("registry", MINISTRY_EVENTS, head_position=214),
    "create_ministry": OperationExamples(request=MINISTRY, response=ministry(1, None)),
    "list_ministries": OperationExamples(
        response=page(
            [
                {
                    "code": "MHLW",
                    "name": "Ministry of Health, Labour and Welfare",
                    "caio": {"officer_id": "mhlw-caio-002", "name": "Yamamoto Keiko"},
                    "version": 2,
                },
                ministry(3, CAIO),
            ],
            MINISTRIES_CURSOR,
            f"/v1/ministries?limit=2&cursor={MINISTRIES_CURSOR}",
        )
    ),
    "get_ministry": OperationExamples(response=ministry(3, CAIO)),
    "designate_caio": OperationExamples(request={**CAIO, "reason": DESIGNATION_REASON}, response=ministry(3, CAIO)),
    "revoke_caio": OperationExamples(response=ministry(4, None)),
    "get_caio": OperationExamples(response=ministry(3, CAIO)),
    "get_caio_history": OperationExamples(
        response=page(
            [
                designation(
                    PREVIOUS_CAIO, FIRST_DESIGNATED_AT, FIRST_DESIGNATION_REASON, (DESIGNATED_AT, DESIGNATION_REASON)
                ),
                designation(CAIO, DESIGNATED_AT, DESIGNATION_REASON, None),
            ],
            None,
            None,
        )
    ),
    "register_project": OperationExamples(
        request={"ministry": "MIC", **DETAILS}, response=project(1, Stage.planning, REGISTERED_AT, None)
    ),
    "list_projects": OperationExamples(
        response=page([PROJECT_SUMMARY], PROJECTS_CURSOR, f"/v1/projects?ministry=MIC&limit=1&cursor={PROJECTS_CURSOR}")
    ),
    "get_project": OperationExamples(response=project(4, Stage.development, DEVELOPMENT_AT, PROCUREMENT)),
    "amend_project": OperationExamples(
        request={
            "reason": "Counsellors will now review every answer during the first three months of operation.",
            **AMENDMENT,
        },
        response=project(5, Stage.development, AMENDED_AT, PROCUREMENT, {**DETAILS, **AMENDMENT}),
    ),
    "transition_project": OperationExamples(
        request={"to": "development", "reason": TRANSITION_REASON},
        response=project(4, Stage.development, DEVELOPMENT_AT, PROCUREMENT),
    ),
    "record_procurement": OperationExamples(
        request=PROCUREMENT_REQUEST, response=project(3, Stage.procurement, PROCUREMENT_RECORDED_AT, PROCUREMENT)
    ),
    "get_project_events": OperationExamples(response=page(PROJECT_EVENTS, None, None)),
    "publish_project": OperationExamples(
        request={
            "withheld": [{"field": "vendor", "reason": "commercial_confidentiality", "text": None}],
            "reason": "First publication in the public register before the service opens.",
        },
        response={
            **project(6, Stage.development, PUBLISHED_AT, PROCUREMENT, {**DETAILS, **AMENDMENT}),
            "publications": 1,
        },
    ),
    "issue_usage_rules": OperationExamples(request=USAGE_RULES_REQUEST, response=USAGE_RULES),
    "list_usage_rules": OperationExamples(response=page([USAGE_RULES], None, None)),
    "get_usage_rules": OperationExamples(response=USAGE_RULES),
    "submit_periodic_report": OperationExamples(request=REPORT_SUBMISSION, response=REPORT_SUBMITTED),
}

# -- check sheets ---------------------------------------------------------------------------------------------

SHEETS_PUBLISHED_AT = "2026-06-12T00:00:03.551920+00:00"
OFFICIAL_CONTRACT = {**checksheets.dump(CONTRACT_SHEET), "version": 2}
OFFICIAL_CONTRACT["items"] = [
    {**item, "title": {**item["title"], "ja": item["title"]["ja"] + "（公式の文言）"}}
    for item in OFFICIAL_CONTRACT["items"]
]
RISK_ACCEPTED_AT = "2026-06-08T04:12:55.190334+00:00"
MODEL_CHANGE_AT = "2026-09-01T01:03:12.871455+00:00"


def check_sheet_out(sheet: checksheets.CheckSheet) -> dict[str, Any]:
    return {
        "sheet_id": sheet.id,
        "version": sheet.version,
        "kind": sheet.kind.value,
        "content_hash": checksheets.content_hash(sheet),
        "content": checksheets.dump(sheet),
    }


def check_sheet_summary(sheet: checksheets.CheckSheet) -> dict[str, Any]:
    return {
        "sheet_id": sheet.id,
        "version": sheet.version,
        "kind": sheet.kind.value,
        "title": sheet.title.model_dump(),
        "content_hash": checksheets.content_hash(sheet),
        "published_at": SHEETS_PUBLISHED_AT,
    }


def sheet_answers(sheet: checksheets.CheckSheet, accepted: str | None) -> dict[str, Any]:
    """The example project's status on one sheet: every applicable item answered (``answered_in_full``), the one
    answered not_met accepted."""
    answers = answered_in_full(sheet, accepted)["answers"]
    return {
        "kind": sheet.kind.value,
        "sheet_id": sheet.id,
        "version": sheet.version,
        "state": "complete",
        "missing": [],
        "unaccepted": [],
        "answers": [{**answer, "risk_accepted": answer["item"] == accepted} for answer in answers],
    }


CHECK_SHEET_EXAMPLES: dict[str, OperationExamples] = {
    "list_check_sheets": OperationExamples(
        response=page([check_sheet_summary(CONTRACT_SHEET), check_sheet_summary(PROCUREMENT_SHEET)], None, None)
    ),
    "get_check_sheet": OperationExamples(response=check_sheet_out(CONTRACT_SHEET)),
    "publish_check_sheet": OperationExamples(
        request=OFFICIAL_CONTRACT, response=check_sheet_out(checksheets.parse(OFFICIAL_CONTRACT))
    ),
    "get_project_check_sheets": OperationExamples(
        response={
            "project_id": PROJECT_ID,
            "version": 5,
            "sheets": [
                sheet_answers(PROCUREMENT_SHEET, None),
                sheet_answers(CONTRACT_SHEET, LOGS_KEPT_SHORT),
            ],
        }
    ),
    "accept_check_item_risk": OperationExamples(
        request={"reason": "90 days of logs meet the ministry's audit needs; the vendor exports them monthly."},
        response=project(5, Stage.development, RISK_ACCEPTED_AT, PROCUREMENT),
    ),
    "record_model_change": OperationExamples(
        request={
            "provider": "Example Cloud KK",
            "model": "example-llm-ja-large",
            "version": "2026-10",
            "effective_date": "2026-10-01",
            "changes": "A new base model; the output filter is retrained on the new model.",
        },
        response=project(6, Stage.development, MODEL_CHANGE_AT, PROCUREMENT),
    ),
}
EXAMPLES |= CHECK_SHEET_EXAMPLES
