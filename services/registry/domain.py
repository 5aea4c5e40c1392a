"""The registry's aggregates and rules: ministries with their CAIO designations, and AI projects.

Plain Python on the ``eventsourcing`` aggregate base: no HTTP, no SQL. Each public method checks the
rule, then triggers one past-tense event carrying the actor's ``EventMeta``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.registry.contract import MATERIAL_FIELDS as MATERIAL_FIELDS
from services.registry.contract import (
    PERIOD,
    PUBLIC_FIELDS,
    Stage,
    Withholding,
    WithholdingReason,
    material_fields,
    ministry_id,
    text_hash,
    withheld_marker,
)
from services.risk.contract import PROCEED_DECISIONS, Classification, has_expired
from shared.errors import FieldProblem, InvalidInput, InvalidInputs, RuleViolated
from shared.i18n import N_, Msg
from shared.meta import EventMeta


class TransitionNotAllowed(RuleViolated):
    """The lifecycle does not lead from the current stage to the one asked for; names the allowed ones."""

    def __init__(self, current: Stage, requested: Stage, allowed: list[Stage]):
        self.current, self.requested, self.allowed = current, requested, allowed
        names = ", ".join(stage.value for stage in allowed) or "none (the project is retired)"
        super().__init__(
            Msg(
                "A project in {current} cannot move to {requested}; allowed next stages: {names}.",
                current=current.value,
                requested=requested.value,
                names=names,
            ),
            current_stage=current.value,
            allowed=[stage.value for stage in allowed],
        )


class NothingToChange(InvalidInput):
    """An amendment that changes no field is refused: the log records facts, not no-ops."""

    def __init__(self, detail: str):
        super().__init__(detail, "", "no_change")


class StageRuleViolated(RuleViolated):
    """The command is not allowed in the project's current stage."""


class OperationBlocked(RuleViolated):
    """The gate before operation: what the risk process has not yet settled."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(
            Msg("The project cannot enter operation yet: {missing}.", missing="; ".join(missing)), missing=missing
        )


@dataclass(frozen=True)
class GateState:
    """What the registry knows of a project's risk outcome, followed from the risk log (``registry_risk_gate``)."""

    classification: str | None
    classification_current: bool
    classified_registry_position: int | None
    last_material_position: int | None
    expires_at: datetime | None
    board_advice_recorded: bool
    decision: str | None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> GateState:
        return cls(
            classification=values.get("classification"),
            classification_current=bool(values.get("classification_current")),
            classified_registry_position=values.get("classified_registry_position"),
            last_material_position=values.get("last_material_position"),
            expires_at=values.get("expires_at"),
            board_advice_recorded=bool(values.get("board_advice_recorded")),
            decision=values.get("decision"),
        )

    @property
    def stale(self) -> bool:
        """Stale: the risk service marked it so, or a material amendment came after the registry position the
        classification was made in knowledge of (no window between the amendment and the risk log's reaction)."""
        material = self.last_material_position
        reflects_material_changes = material is None or (self.classified_registry_position or 0) >= material
        return not self.classification_current or not reflects_material_changes


def operation_blockers(gate: GateState | Mapping[str, Any] | None, now: datetime) -> list[str]:
    """What must still happen before a project may enter operation (GUIDELINE.md, "operation")."""
    state = GateState.of(gate) if isinstance(gate, Mapping) else gate
    if state is None or state.classification is None:
        return ["the CAIO's risk classification (the risk evaluation is not yet decided)"]
    missing: list[str] = []
    if state.stale:
        missing.append("a re-evaluation: the risk classification is stale")
    elif has_expired(state.expires_at, now):
        missing.append("a re-evaluation: the risk classification has expired")
    if state.classification == Classification.high:
        if not state.board_advice_recorded:
            missing.append("the Advisory Board's advice on a submission")
        if state.decision not in PROCEED_DECISIONS:
            missing.append("the CAIO's decision to proceed (proceed or proceed_with_conditions)")
    return missing


class NoCurrentOfficer(RuleViolated):
    """Revoking a CAIO designation requires a current designation."""


class NotTheDesignatedOfficer(RuleViolated):
    """Only the ministry's CAIO designated at that moment issues its usage rules and submits its periodic report.

    The route already refuses (403) an officer the registry's index does not name; this is the aggregate's own
    check, in the same save as the event: a designation recorded meanwhile makes the save conflict, so an officer
    replaced a moment ago can never slip a submission in."""


@dataclass(frozen=True)
class UsageRulesVersion:
    """One version of a ministry's rules for staff use of generative AI (利活用ルール)."""

    version: int
    title: str
    text: str | None
    reference: str | None
    content_hash: str
    effective_from: date
    issued_at: datetime
    issued_by: str
    issued_by_name: str
    reason: str | None


@dataclass(frozen=True)
class PeriodicSubmission:
    """A periodic report as submitted: what reporting computed at those positions and that time, by its hash."""

    period: str
    content_hash: str
    registry_position: int
    risk_position: int
    as_of: datetime
    submitted_at: datetime
    submitted_by: str
    submitted_by_name: str
    reason: str | None


def usage_rules_problems(
    text: str | None, reference: str | None, reference_hash: str | None, effective_from: date, latest: date | None
) -> list[FieldProblem]:
    """What is wrong with a new version of the usage rules: the text itself or a reference to it with the
    reference's hash (one, not both), and an effective date not before the latest version's (so a version in
    force never goes back to an earlier one)."""
    problems: list[FieldProblem] = []
    if (text is None) == (reference is None):
        problems.append(
            FieldProblem("text", "give the rules' text, or a reference to them, not both", "text_or_reference")
        )
    if reference is not None and reference_hash is None:
        problems.append(FieldProblem("reference_hash", "a reference needs the sha256 of what it names", "missing"))
    if reference is None and reference_hash is not None:
        problems.append(FieldProblem("reference_hash", "a reference hash needs a reference", "unexpected"))
    if latest is not None and effective_from < latest:
        problems.append(
            FieldProblem(
                "effective_from",
                f"a new version cannot take effect before the latest version's effective date {latest.isoformat()}",
                "before_latest",
            )
        )
    return problems


_FORWARD: dict[Stage, Stage] = {
    Stage.planning: Stage.procurement,
    Stage.procurement: Stage.development,
    Stage.development: Stage.operation,
}


def allowed_transitions(current: Stage, suspended_from: Stage | None) -> list[Stage]:
    """The lifecycle of GUIDELINE.md: forward one step; suspend from development or operation and resume
    to the stage suspended from; retire (or discontinue) from any stage but retired."""
    if current == Stage.retired:
        return []
    allowed: list[Stage] = []
    if current in _FORWARD:
        allowed.append(_FORWARD[current])
    if current in (Stage.development, Stage.operation):
        allowed.append(Stage.suspended)
    if current == Stage.suspended and suspended_from is not None:
        allowed.append(suspended_from)
    allowed.append(Stage.retired)
    return allowed


class Ministry(Aggregate):
    """A ministry or agency: exactly one current CAIO at a time, with the full history of designations; the
    versions of its usage rules and its periodic-report submissions, each by the CAIO designated then."""

    # Class-level defaults: a snapshot taken before these existed restores without them.
    usage_rules_issued: int = 0
    usage_rules_effective_from: str | None = None

    @staticmethod
    def create_id(code: str) -> UUID:
        return ministry_id(code)

    @event("MinistryEstablished")
    def __init__(self, code: str, name: str, meta: EventMeta):
        self.code = code
        self.name = name
        self.caio: dict[str, Any] | None = None

    def designate_caio(self, officer_id: str, name: str, meta: EventMeta) -> None:
        previous = self.caio["officer_id"] if self.caio else None
        self._designated(officer_id=officer_id, name=name, previous_officer_id=previous, meta=meta)

    @event("ChiefAIOfficerDesignated")
    def _designated(self, officer_id: str, name: str, previous_officer_id: str | None, meta: EventMeta) -> None:
        self.caio = {"officer_id": officer_id, "name": name}

    def revoke_caio(self, meta: EventMeta) -> None:
        if self.caio is None:
            raise NoCurrentOfficer(f"Ministry {self.code} has no current Chief AI Officer to revoke.")
        self._revoked(officer_id=self.caio["officer_id"], meta=meta)

    @event("ChiefAIOfficerRevoked")
    def _revoked(self, officer_id: str, meta: EventMeta) -> None:
        self.caio = None

    def _require_designated(self, meta: EventMeta, act: str) -> None:
        if self.caio is None or self.caio["officer_id"] != meta.actor_id:
            raise NotTheDesignatedOfficer(
                f"Only the designated Chief AI Officer of {self.code} {act}; {meta.actor_id} is not designated now."
            )

    def issue_usage_rules(
        self,
        title: str,
        text: str | None,
        reference: str | None,
        reference_hash: str | None,
        effective_from: date,
        meta: EventMeta,
    ) -> UsageRulesVersion:
        """Record the next version of the ministry's usage rules (its number is the next one)."""
        self._require_designated(meta, "issues its usage rules")
        latest = date.fromisoformat(self.usage_rules_effective_from) if self.usage_rules_effective_from else None
        problems = usage_rules_problems(text, reference, reference_hash, effective_from, latest)
        if problems:
            raise InvalidInputs("The usage rules cannot be issued as sent.", problems)
        self._usage_rules_issued(
            version=self.usage_rules_issued + 1,
            title=title,
            text=text,
            reference=reference,
            content_hash=text_hash(text) if text is not None else str(reference_hash),
            effective_from=effective_from.isoformat(),
            meta=meta,
        )
        return usage_rules_version(self.pending_events[-1])

    @event("UsageRulesIssued")
    def _usage_rules_issued(
        self,
        version: int,
        title: str,
        text: str | None,
        reference: str | None,
        content_hash: str,
        effective_from: str,
        meta: EventMeta,
    ) -> None:
        self.usage_rules_issued = version
        self.usage_rules_effective_from = effective_from

    def submit_periodic_report(
        self,
        period: str,
        content_hash: str,
        registry_position: int,
        risk_position: int,
        as_of: datetime,
        meta: EventMeta,
    ) -> PeriodicSubmission:
        """Record the submission of the report reporting computed (a later submission of the same period
        supersedes the earlier one; both stay in the log)."""
        self._require_designated(meta, "submits its periodic report")
        if not PERIOD.match(period):
            raise InvalidInput("The period must look like 2026H1 or 2026H2.", "period", "pattern")
        if as_of.tzinfo is None:
            raise InvalidInput("as_of needs its UTC offset.", "as_of", "timezone")
        self._report_submitted(
            period=period,
            content_hash=content_hash,
            registry_position=registry_position,
            risk_position=risk_position,
            as_of=as_of.isoformat(),
            meta=meta,
        )
        return periodic_submission(self.pending_events[-1])

    @event("PeriodicReportSubmitted")
    def _report_submitted(
        self,
        period: str,
        content_hash: str,
        registry_position: int,
        risk_position: int,
        as_of: str,
        meta: EventMeta,
    ) -> None:
        pass  # nothing the ministry's later rules depend on: the submission is read from the log


def usage_rules_version(issued: Any) -> UsageRulesVersion:
    """A version of the usage rules from the event that issued it."""
    return UsageRulesVersion(
        version=issued.version,
        title=issued.title,
        text=issued.text,
        reference=issued.reference,
        content_hash=issued.content_hash,
        effective_from=date.fromisoformat(issued.effective_from),
        issued_at=issued.timestamp,
        issued_by=issued.meta.actor_id,
        issued_by_name=issued.meta.actor_name,
        reason=issued.meta.reason,
    )


def usage_rules_history(events: list[Any]) -> list[UsageRulesVersion]:
    """Every version of a ministry's usage rules, oldest first."""
    return [usage_rules_version(e) for e in events if type(e).__name__ == "UsageRulesIssued"]


def periodic_submission(submitted: Any) -> PeriodicSubmission:
    """A submission from the event that recorded it."""
    return PeriodicSubmission(
        period=submitted.period,
        content_hash=submitted.content_hash,
        registry_position=submitted.registry_position,
        risk_position=submitted.risk_position,
        as_of=datetime.fromisoformat(submitted.as_of),
        submitted_at=submitted.timestamp,
        submitted_by=submitted.meta.actor_id,
        submitted_by_name=submitted.meta.actor_name,
        reason=submitted.meta.reason,
    )


def caio_history(events: list[Any]) -> list[dict[str, Any]]:
    """Every designation of a ministry, oldest first, each closed by the replacement or revocation that ended it."""
    history: list[dict[str, Any]] = []

    def close(at: str, meta: EventMeta, how: str) -> None:
        if history and history[-1]["ended_at"] is None:
            history[-1].update(ended_at=at, ended_by=meta.actor_id, end_reason=meta.reason, ended_how=how)

    for domain_event in events:
        at = domain_event.timestamp.isoformat()
        kind = type(domain_event).__name__
        if kind == "ChiefAIOfficerDesignated":
            close(at, domain_event.meta, "replaced")
            history.append(
                {
                    "officer_id": domain_event.officer_id,
                    "name": domain_event.name,
                    "designated_at": at,
                    "designated_by": domain_event.meta.actor_id,
                    "reason": domain_event.meta.reason,
                    "ended_at": None,
                    "ended_by": None,
                    "end_reason": None,
                    "ended_how": None,
                }
            )
        elif kind == "ChiefAIOfficerRevoked":
            close(at, domain_event.meta, "revoked")
    return history


class Project(Aggregate):
    """A generative-AI project of one ministry, moving through the guideline's lifecycle."""

    @event("ProjectRegistered")
    def __init__(self, ministry: str, details: dict[str, Any], meta: EventMeta):
        self.ministry = ministry
        self.details = dict(details)
        self.stage = Stage.planning
        self.suspended_from: Stage | None = None
        self.procurement: dict[str, Any] | None = None
        self.publications = 0

    @property
    def allowed_transitions(self) -> list[Stage]:
        return allowed_transitions(self.stage, self.suspended_from)

    def amend(self, changes: dict[str, Any], meta: EventMeta) -> None:
        """Record the fields that really change, and whether the change is material to the risk evaluation."""
        effective = {key: value for key, value in changes.items() if self.details.get(key) != value}
        if not effective:
            raise NothingToChange(N_("The amendment changes nothing: every field already has the value sent."))
        material = material_fields(set(effective))
        previous = {key: self.details.get(key) for key in effective}
        self._amended(
            changes=effective,
            previous=previous,
            material=bool(material),
            material_fields=material,
            meta=meta,
        )

    @event("ProjectAmended")
    def _amended(
        self,
        changes: dict[str, Any],
        previous: dict[str, Any],
        material: bool,
        material_fields: list[str],
        meta: EventMeta,
    ) -> None:
        self.details.update(changes)

    def transition(self, to: Stage, meta: EventMeta) -> None:
        allowed = self.allowed_transitions
        if to not in allowed:
            raise TransitionNotAllowed(self.stage, to, allowed)
        self._stage_changed(from_stage=self.stage.value, to_stage=to.value, meta=meta)

    @event("ProjectStageChanged")
    def _stage_changed(self, from_stage: str, to_stage: str, meta: EventMeta) -> None:
        self.suspended_from = Stage(from_stage) if to_stage == Stage.suspended else None
        self.stage = Stage(to_stage)

    def record_procurement(self, record: dict[str, Any], meta: EventMeta) -> None:
        if self.stage in (Stage.planning, Stage.retired):
            raise StageRuleViolated(
                Msg(
                    "Procurement is recorded from the procurement stage on, and not after retirement; the project "
                    "is in {stage}.",
                    stage=self.stage.value,
                )
            )
        self._procurement_recorded(record=record, meta=meta)

    @event("ProcurementRecorded")
    def _procurement_recorded(self, record: dict[str, Any], meta: EventMeta) -> None:
        self.procurement = dict(record)

    def publish(self, record: dict[str, Any], withheld: list[Withholding], meta: EventMeta) -> None:
        """Publish the public record as it stands, each withheld field replaced by its reason (never its value)."""
        published_before = getattr(self, "publications", 0)  # a snapshot taken before publications existed
        if self.stage == Stage.retired and published_before == 0:
            raise StageRuleViolated(N_("A retired project that was never published cannot be published."))
        check_publication(record, withheld)
        published = dict(record)
        for withholding in withheld:
            published[withholding.field] = withheld_marker(withholding)
        self._published(
            publication=published_before + 1,
            record=published,
            withheld=[withholding.model_dump(mode="json") for withholding in withheld],
            meta=meta,
        )

    @event("ProjectPublished")
    def _published(
        self, publication: int, record: dict[str, Any], withheld: list[dict[str, Any]], meta: EventMeta
    ) -> None:
        self.publications = publication


def public_record(project: Project, gate: GateState | None, caio_name: str | None) -> dict[str, Any]:
    """The project's public record as it stands (every field of ``PUBLIC_FIELDS``): tier 1 in plain terms, tier 2
    in detail; the Chief AI Officer by name only (no officer id), the risk outcome as the registry knows it."""
    details = project.details
    return {
        "name": details.get("title"),
        "summary": details.get("objectives"),
        "ministry": project.ministry,
        "stage": Stage(project.stage).value,
        "contact": details.get("owner"),
        "human_review": details.get("human_review"),
        "description": details.get("description"),
        "business_area": details.get("business_area"),
        "nature_of_work": details.get("nature_of_work"),
        "users": details.get("users"),
        "data": details.get("data"),
        "models": details.get("models"),
        "vendor": (project.procurement or {}).get("vendor"),
        "chief_ai_officer": caio_name,
        "risk_classification": gate.classification if gate else None,
        "classification_current": (not gate.stale) if gate and gate.classification else None,
        "board_advice_recorded": gate.board_advice_recorded if gate else False,
        "decision": gate.decision if gate else None,
    }


def check_publication(record: dict[str, Any], withheld: list[Withholding]) -> None:
    """422 naming every problem: a mandatory field missing from the record or withheld, an unknown or repeated
    field, ``other`` without its text."""
    problems = [
        FieldProblem(field, f"mandatory public field {field} has no value; set it on the project", "missing")
        for field, mandatory in PUBLIC_FIELDS.items()
        if mandatory and record.get(field) in (None, "")
    ]
    seen: set[str] = set()
    for index, withholding in enumerate(withheld):
        path = f"withheld[{index}]"
        if withholding.field not in PUBLIC_FIELDS:
            problems.append(FieldProblem(f"{path}.field", f"{withholding.field} is not a public field", "unknown"))
        elif PUBLIC_FIELDS[withholding.field]:
            problems.append(
                FieldProblem(f"{path}.field", f"{withholding.field} is mandatory and cannot be withheld", "mandatory")
            )
        elif withholding.field in seen:
            problems.append(FieldProblem(f"{path}.field", f"{withholding.field} is withheld twice", "duplicate"))
        if withholding.reason == WithholdingReason.other and not (withholding.text or "").strip():
            problems.append(FieldProblem(f"{path}.text", "the reason other needs a text", "missing"))
        seen.add(withholding.field)
    if problems:
        fields = ", ".join(problem.field for problem in problems)
        raise InvalidInputs(Msg("The publication cannot be recorded: {fields}.", fields=fields), problems)
