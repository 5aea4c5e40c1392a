"""The risk service's OpenAPI examples: the registry's enquiry assistant evaluated under ruleset jp-genai-2.0,
classified high by the CAIO, submitted to the Advanced AI Utilization Advisory Board, advised with conditions
and decided; then an incident in operation, reported to the Digital Agency and closed.

Screenings, ruleset contents and hashes are computed by the service's own evaluation code from the shipped
ruleset, so the examples show exactly what the service answers for these answers.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.registry.examples import CAIO_ACTOR, MINISTRY, PLANNER, PROJECT_ID
from services.risk import evaluation
from services.risk.domain import ProjectRisk
from shared.openapi_examples import Actor, OperationExamples, health_examples, log_entry, log_examples, page

ASSESSMENT_ID = "b7e3c1d2-5f6a-4e89-8b0c-9d1e2f3a4b5c"
SUBMISSION_ID = "e2a4c6d8-1b3f-4a5c-9e7d-0f2b4d6e8a1c"
INCIDENT_ID = "5d9f1b3e-7a2c-4e6b-a8d0-c1e3f5a7b9d2"
PROJECT_RISK_ID = str(ProjectRisk.create_id(UUID(PROJECT_ID)))
BOARD_MEMBER: Actor = ("board-member-07", "Ito Yumi", "board_member", None)
RISK_SERVICE: Actor = ("aigov-risk", "aigov risk service", "system", "MIC")
CLASSIFIED_AT = "2026-06-24T04:10:27.384411+00:00"
REEVALUATION_DUE_AT = "2027-06-24T04:10:27.384288+00:00"

RULESET = evaluation.load_shipped("jp-genai-2.0", 1)
#: Version 2 tightens the level bounds and makes level IV likely high risk on its own.
STRICTER_LEVELS = [
    {"name": "I", "up_to": 0.2},
    {"name": "II", "up_to": 0.4},
    {"name": "III", "up_to": 0.55},
    {"name": "IV", "up_to": 1.0},
]
RULESET_V2 = evaluation.parse(
    {
        **evaluation.dump(RULESET),
        "version": 2,
        "levels": STRICTER_LEVELS,
        "screening": {"any_high_viewpoint": True, "high_levels": ["IV"]},
    }
)

ANSWERS = {
    "users": {"choice": "public", "justification": "Members of the public use the assistant on the MIC website."},
    "nature_of_work": {
        "choice": "public_information",
        "justification": (
            "Answers inform citizens about procedures; the assistant decides nothing about their rights or obligations."
        ),
    },
    "confidential_data": {
        "choice": "internal",
        "justification": (
            "Retrieval covers published guidance and internal FAQ drafts; no personal data is stored or used."
        ),
    },
    "staff_judgment": {
        "choice": "sampled",
        "justification": (
            "Counsellors review a 5% daily sample of conversations; answers are shown without prior review."
        ),
    },
}
MITIGATIONS = {
    "mitigation.human_review_procedure": {
        "choice": "yes",
        "justification": "Sampling and review procedure AEB-PROC-12, approved by the division head.",
    },
    "mitigation.output_testing": {
        "choice": "yes",
        "justification": (
            "A 1,200-question evaluation set, run before release and monthly, including harmful and "
            "discriminatory prompts."
        ),
    },
    "mitigation.incident_response": {
        "choice": "yes",
        "justification": "The ministry's AI incident procedure applies; the CAIO reports to the Digital Agency.",
    },
    "mitigation.logging": {
        "choice": "yes",
        "justification": "Prompts and answers are kept for three years in the ministry's audit log store.",
    },
    "mitigation.data_minimisation": {
        "choice": "partial",
        "justification": (
            "The contract forbids training on inputs; masking of personal data typed in by users is planned."
        ),
    },
}
SCREENING = evaluation.screen(RULESET, ANSWERS, MITIGATIONS)
CLASSIFICATION_REASONS = (
    "Citizens receive the answers directly and counsellors check only a sample; two viewpoints are on the high side."
)
CLASSIFICATION = {
    "classification": "high",
    "reasons": CLASSIFICATION_REASONS,
    "override": False,
    "override_justification": None,
    "by": CAIO_ACTOR[0],
}

SUBMISSION_CONTENT: dict[str, Any] = {
    "objectives": (
        "Answer citizens' routine questions about administrative procedures around the clock, and "
        "hand complex cases to a counsellor."
    ),
    "expected_results": (
        "30% fewer routine telephone enquiries in the first year; counsellors' time freed for complex cases."
    ),
    "assessment_id": ASSESSMENT_ID,
    "mitigation_measures": [
        {
            "risk": "Inaccurate or outdated answers about procedures",
            "measure": "Answer only from retrieved published guidance, cite it, and refuse questions outside scope.",
            "owner": "Administrative Counselling Division",
            "status": "implemented",
        },
        {
            "risk": "Citizens rely on an answer without checking it",
            "measure": "Every answer says it is AI-generated and offers a hand-over to a counsellor.",
            "owner": "Administrative Counselling Division",
            "status": "in_progress",
        },
    ],
    "quality_assurance": {
        "evaluation_method": "Monthly run of the 1,200-question evaluation set, scored by two counsellors.",
        "metrics": [
            {"name": "Accuracy on the evaluation set", "threshold": "at least 95%"},
            {"name": "Harmful or discriminatory answers", "threshold": "none in the monthly run"},
        ],
        "monitoring": "Daily dashboard of refusals, hand-overs and user feedback; weekly review by the division.",
        "human_review": "Counsellors review a 5% daily sample of conversations.",
        "incident_response": (
            "The ministry's AI incident procedure; the CAIO reports serious incidents to the Digital Agency."
        ),
    },
    "supporting_information": [
        {"title": "Risk assessment under jp-genai-2.0", "reference": f"/v1/assessments/{ASSESSMENT_ID}"},
        {"title": "Procurement record", "reference": "MIC-AEB-2026-0042"},
    ],
}
CONDITIONS = [
    "Publish the tier-1 public record before launch.",
    "Report accuracy on the evaluation set to the Board after three months of operation.",
]
ADVICE_IN = {
    "opinion": "advice_with_conditions",
    "text": (
        "The Board supports the project; retrieval limited to published guidance addresses the "
        "main risk of inaccurate answers."
    ),
    "conditions": CONDITIONS,
}
DECISION_IN = {
    "decision": "proceed_with_conditions",
    "reasons": "The Board's conditions are accepted; the project proceeds to operation with both in place.",
    "condition_responses": [
        {
            "condition": CONDITIONS[0],
            "response": "accepted",
            "note": "The record is drafted and will be published on the ministry's website.",
        },
        {"condition": CONDITIONS[1], "response": "accepted", "note": ""},
    ],
}
INCIDENT_IN = {
    "occurred_at": "2026-09-14T10:20:00+09:00",
    "what_happened": (
        "The assistant quoted a superseded filing deadline for an administrative counselling "
        "request to 14 users over two days."
    ),
    "harm": "individuals",
    "severity": "medium",
    "immediate_actions": (
        "The outdated guidance was removed from the retrieval index; the affected users were contacted by a counsellor."
    ),
}
REPORT_IN = {
    "reference": "DA-INC-2026-0193",
    "reason": "Reported to the Digital Agency under the incident reporting procedure.",
}
CORRECTIVE_MEASURES = (
    "Retrieval index now rebuilt nightly from the published guidance; superseded documents "
    "are removed on publication of a revision."
)


def assessment(
    version: int, state: str, answered: bool, screening: dict[str, Any] | None, classification: dict[str, Any] | None
) -> dict[str, Any]:
    """The assessment as the service returns it, at one version."""
    return {
        "id": ASSESSMENT_ID,
        "project_id": PROJECT_ID,
        "ministry": "MIC",
        "ruleset_id": RULESET.id,
        "ruleset_version": RULESET.version,
        "ruleset_hash": evaluation.content_hash(RULESET),
        "state": state,
        "answers": ANSWERS if answered else {},
        "mitigations": MITIGATIONS if answered else {},
        "screening": screening,
        "classification": classification,
        "version": version,
    }


def submission(
    version: int, status: str, advice: dict[str, Any] | None = None, decision: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": SUBMISSION_ID,
        "project_id": PROJECT_ID,
        "ministry": "MIC",
        "status": status,
        "previous_submission_id": None,
        "content": SUBMISSION_CONTENT,
        "advice": advice,
        "decision": decision,
        "version": version,
    }


def incident(version: int, reported: bool, closed: bool) -> dict[str, Any]:
    reported_onward = {"reference": REPORT_IN["reference"], "by": CAIO_ACTOR[0]} if reported else None
    closure = {"corrective_measures": CORRECTIVE_MEASURES, "by": PLANNER[0]} if closed else None
    return {
        "id": INCIDENT_ID,
        "project_id": PROJECT_ID,
        "ministry": "MIC",
        "details": INCIDENT_IN,
        "severe": False,
        "reported_onward": reported_onward,
        "closure": closure,
        "version": version,
    }


def ruleset_out(ruleset: evaluation.Ruleset) -> dict[str, Any]:
    return {
        "ruleset_id": ruleset.id,
        "version": ruleset.version,
        "content_hash": evaluation.content_hash(ruleset),
        "content": evaluation.dump(ruleset),
    }


def ruleset_summary(ruleset_id: str, published_at: str) -> dict[str, Any]:
    ruleset = evaluation.load_shipped(ruleset_id, 1)
    return {
        "ruleset_id": ruleset.id,
        "version": ruleset.version,
        "content_hash": evaluation.content_hash(ruleset),
        "title": ruleset.title,
        "published_at": published_at,
    }


def risk_event(
    position: int,
    topic: str,
    aggregate: tuple[str, int],
    occurred_at: str,
    actor: Actor,
    reason: str | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    return log_entry("risk", position, f"services.risk.domain:{topic}", aggregate, occurred_at, actor, reason, data)


ADVICE = ADVICE_IN | {"by": BOARD_MEMBER[0]}
DECISION = DECISION_IN | {"by": CAIO_ACTOR[0]}
RESCORED = evaluation.compare(SCREENING, RULESET_V2, ANSWERS, MITIGATIONS) or {}
DUE_CAUSE = "project registered (registry position 41)"
BECAME_DUE = risk_event(
    118,
    "ProjectRisk.RiskEvaluationBecameDue",
    (PROJECT_RISK_ID, 1),
    "2026-04-15T01:12:09.873512+00:00",
    RISK_SERVICE,
    DUE_CAUSE,
    {
        "originator_topic": "services.risk.domain:ProjectRisk",
        "project_id": PROJECT_ID,
        "ministry": "MIC",
        "cause": DUE_CAUSE,
    },
)
#: The CAIO's classification is recorded on the assessment and on the project's risk state, one after the other.
CLASSIFIED_EVENTS = [
    risk_event(
        151,
        "Assessment.AssessmentClassified",
        (ASSESSMENT_ID, 4),
        CLASSIFIED_AT,
        CAIO_ACTOR,
        CLASSIFICATION_REASONS,
        {key: CLASSIFICATION[key] for key in ("classification", "reasons", "override", "override_justification")},
    ),
    risk_event(
        152,
        "ProjectRisk.ProjectClassified",
        (PROJECT_RISK_ID, 3),
        CLASSIFIED_AT,
        CAIO_ACTOR,
        CLASSIFICATION_REASONS,
        {
            "assessment_id": ASSESSMENT_ID,
            "classification": "high",
            "expires_at": REEVALUATION_DUE_AT,
            "registry_position": 70,
        },
    ),
]

#: A draft edited once: the objectives of the first draft were completed by the second version.
SUBMISSION_EDIT = {"objectives": SUBMISSION_CONTENT["objectives"]}
SUBMISSION_HISTORY = [
    risk_event(
        160,
        "BoardSubmission.BoardSubmissionDrafted",
        (SUBMISSION_ID, 1),
        "2026-06-25T02:00:11.502114+00:00",
        PLANNER,
        None,
        {
            "originator_topic": "services.risk.domain:BoardSubmission",
            "project_id": PROJECT_ID,
            "ministry": "MIC",
            "content": {**SUBMISSION_CONTENT, "objectives": None},
            "previous_submission_id": None,
        },
    )
    | {"schema_version": 2},
    risk_event(
        163,
        "BoardSubmission.BoardSubmissionDraftEdited",
        (SUBMISSION_ID, 2),
        "2026-06-25T05:41:37.118306+00:00",
        PLANNER,
        "draft edited",
        {"content": SUBMISSION_CONTENT},
    ),
]

EXAMPLES: dict[str, OperationExamples] = {
    **health_examples(followed=("registry",)),
    **log_examples("risk", CLASSIFIED_EVENTS, head_position=389),
    "get_project_risk": OperationExamples(
        response={
            "project_id": PROJECT_ID,
            "ministry": MINISTRY["code"],
            "status": "classified_high",
            "evaluation_due": False,
            "classification": "high",
            "classified_assessment_id": ASSESSMENT_ID,
            "current_assessment_id": None,
            "assessment_ids": [ASSESSMENT_ID],
            "reevaluation_due_at": REEVALUATION_DUE_AT,
            "expired": False,
            "board_status": "awaiting_advice",
            "submission_id": SUBMISSION_ID,
            "decision": None,
            "incident_ids": [],
            "severe_incidents": [],
            "pending": [{"what": "Advisory Board advice", "role": "board_member", "ministry": None}],
            "stale_causes": [],
            "version": 4,
            "registry_position": 70,
        }
    ),
    "list_rulesets": OperationExamples(
        response=page(
            [
                ruleset_summary("ca-aia-example", "2026-04-01T00:00:03.118022+00:00"),
                ruleset_summary("jp-genai-2.0", "2026-04-01T00:00:03.124517+00:00"),
            ],
            None,
            None,
        )
    ),
    "get_ruleset": OperationExamples(response=ruleset_out(RULESET)),
    "publish_ruleset": OperationExamples(request=evaluation.dump(RULESET_V2), response=ruleset_out(RULESET_V2)),
    "rescore_ruleset": OperationExamples(
        response={
            "ruleset_id": RULESET_V2.id,
            "version": RULESET_V2.version,
            "dry_run": True,
            "changes": [
                {
                    "assessment_id": ASSESSMENT_ID,
                    "project_id": PROJECT_ID,
                    "ministry": "MIC",
                    "pinned_version": 1,
                    **RESCORED,
                }
            ],
        }
    ),
    "open_assessment": OperationExamples(
        request={"ruleset_id": RULESET.id}, response=assessment(1, "draft", False, None, None)
    ),
    "get_assessment": OperationExamples(response=assessment(4, "classified", True, SCREENING, CLASSIFICATION)),
    "record_answers": OperationExamples(
        request={"answers": ANSWERS, "mitigations": MITIGATIONS}, response=assessment(2, "draft", True, None, None)
    ),
    "submit_assessment": OperationExamples(response=assessment(3, "submitted", True, SCREENING, None)),
    "classify_assessment": OperationExamples(
        request={"classification": "high", "reasons": CLASSIFICATION_REASONS},
        response=assessment(4, "classified", True, SCREENING, CLASSIFICATION),
    ),
    "draft_board_submission": OperationExamples(request=SUBMISSION_CONTENT, response=submission(1, "draft")),
    "edit_board_submission": OperationExamples(request=SUBMISSION_EDIT, response=submission(2, "draft")),
    "get_board_submission": OperationExamples(response=submission(4, "decided", ADVICE, DECISION)),
    "get_board_submission_history": OperationExamples(response=page(SUBMISSION_HISTORY, None, None)),
    "submit_board_submission": OperationExamples(response=submission(2, "awaiting_advice")),
    "record_board_advice": OperationExamples(request=ADVICE_IN, response=submission(3, "awaiting_decision", ADVICE)),
    "record_caio_decision": OperationExamples(request=DECISION_IN, response=submission(4, "decided", ADVICE, DECISION)),
    "get_board_queue": OperationExamples(response=page([submission(2, "awaiting_advice")], None, None)),
    "record_incident": OperationExamples(request=INCIDENT_IN, response=incident(1, reported=False, closed=False)),
    "get_incident": OperationExamples(response=incident(2, reported=True, closed=False)),
    "report_incident": OperationExamples(request=REPORT_IN, response=incident(2, reported=True, closed=False)),
    "close_incident": OperationExamples(
        request={"corrective_measures": CORRECTIVE_MEASURES}, response=incident(3, reported=True, closed=True)
    ),
}
