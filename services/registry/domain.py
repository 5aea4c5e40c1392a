"""The registry's aggregates and rules: ministries with their CAIO designations, and AI projects.

Plain Python on the ``eventsourcing`` aggregate base: no HTTP, no SQL. Each public method checks the
rule, then triggers one past-tense event carrying the actor's ``EventMeta``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.registry import sheets as checksheets
from services.registry.contract import MATERIAL_FIELDS as MATERIAL_FIELDS
from services.registry.contract import (
    PERIOD,
    PUBLIC_FIELDS,
    CheckAnswer,
    ReopenCause,
    SheetKind,
    SheetState,
    SheetStatus,
    Stage,
    Withholding,
    WithholdingReason,
    check_sheet_version_id,
    material_fields,
    ministry_id,
    text_hash,
    withheld_marker,
)
from services.registry.sheets import Answered, CheckSheet, ProjectFacts
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


class DevelopmentBlocked(RuleViolated):
    """The gate before development: the procurement check sheet items that apply and are not answered."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(
            Msg("The project cannot enter development yet: {missing}.", missing="; ".join(missing)), missing=missing
        )


class NotDesignated(RuleViolated):
    """Only the ministry's designated CAIO, at the moment of recording, may accept a risk."""


class CheckSheetRuleViolated(RuleViolated):
    """A check-sheet command the project's answers do not allow (accepting an item that is not not_met, …)."""


#: The sheets each gate needs complete, and whether every not_met item must carry the CAIO's risk acceptance.
GATE_SHEETS: dict[Stage, tuple[tuple[SheetKind, ...], bool]] = {
    Stage.development: ((SheetKind.procurement,), False),
    Stage.operation: ((SheetKind.procurement, SheetKind.contract), True),
}


def sheet_blockers(
    to: Stage, statuses: Mapping[SheetKind, SheetStatus], sheets: Mapping[SheetKind, CheckSheet]
) -> list[str]:
    """What the check sheets still lack before a project may enter ``to`` (GUIDELINE.md, "procurement"): each
    applicable item not answered and, before operation, each not_met item without the designated CAIO's risk
    acceptance. ``statuses`` are computed for the project as it stands now; a sheet never answered is evaluated
    as an empty answer set to the latest published sheet of its kind (``sheets``), so its items are named."""
    kinds, acceptance = GATE_SHEETS.get(to, ((), False))
    missing: list[str] = []
    for kind in kinds:
        sheet, current = sheets.get(kind), statuses.get(kind)
        if sheet is None or current is None:
            missing.append(f"answers to a {kind.value} check sheet (none is published)")
            continue
        missing += [f"{sheet.label(item)} (not answered)" for item in current.missing]
        if acceptance:
            missing += [
                f"{sheet.label(item)} (not_met, without the designated CAIO's risk acceptance)"
                for item in current.unaccepted
            ]
    return missing


def _answers_by_item(sheet_answers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {answer["item"]: dict(answer) for answer in sheet_answers["answers"]}


def sheets_after_answers(previous: Mapping[str, Any], answered: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A project's sheet state after new answers: each sheet answered replaces the one before; a CAIO's risk
    acceptance carries over to an item answered exactly as when it was accepted (same sheet version)."""
    state: dict[str, Any] = {}
    for sheet_answers in answered:
        kind = str(sheet_answers["kind"])
        answers = _answers_by_item(sheet_answers)
        before = previous.get(kind) or {}
        same_sheet = (before.get("sheet_id"), before.get("version")) == (
            sheet_answers["sheet_id"],
            sheet_answers["version"],
        )
        accepted = {
            item: answer
            for item, answer in (before.get("accepted") or {}).items()
            if same_sheet and answers.get(item) == answer
        }
        state[kind] = {
            "sheet_id": sheet_answers["sheet_id"],
            "version": sheet_answers["version"],
            "content_hash": sheet_answers["content_hash"],
            "answers": answers,
            "accepted": accepted,
        }
    return state


def sheets_after_reopen(previous: Mapping[str, Any], kind: str, items: list[str]) -> dict[str, Any]:
    """Reopened items lose their answer and any risk acceptance: they must be answered (and accepted) again."""
    state = {key: dict(value) for key, value in previous.items()}
    sheet = state[kind]
    sheet["answers"] = {item: answer for item, answer in sheet["answers"].items() if item not in items}
    sheet["accepted"] = {item: answer for item, answer in sheet["accepted"].items() if item not in items}
    return state


def sheets_after_acceptance(previous: Mapping[str, Any], kind: str, item: str) -> dict[str, Any]:
    state = {key: dict(value) for key, value in previous.items()}
    state[kind]["accepted"] = {**state[kind]["accepted"], item: state[kind]["answers"][item]}
    return state


def sheet_statuses(
    state: Mapping[str, Any], sheets: Mapping[SheetKind, CheckSheet], facts: ProjectFacts
) -> dict[SheetKind, SheetStatus]:
    """Each sheet's status for the project as it stands (``facts``); ``sheets`` holds the pinned version of each
    answered sheet (and, for one never answered, the latest published sheet of its kind, for naming its items)."""
    statuses: dict[SheetKind, SheetStatus] = {}
    for kind in SheetKind:
        recorded = state.get(kind.value)
        answered = Answered(recorded["answers"], frozenset(recorded["accepted"])) if recorded else NOTHING_ANSWERED
        current = checksheets.status(kind, sheets.get(kind), answered, facts)
        if recorded is None:
            current = current.model_copy(update={"state": SheetState.not_answered})
        statuses[kind] = current
    return statuses


NOTHING_ANSWERED = Answered({}, frozenset())


def _recorded(statuses: Mapping[SheetKind, SheetStatus]) -> list[dict[str, Any]]:
    """The statuses as events record them: a sheet not answered names no sheet and no items (the gates name the
    items of the latest published sheet of its kind when they refuse)."""
    return [
        (
            status.model_copy(update={"sheet_id": None, "version": None, "missing": [], "unaccepted": []})
            if status.state == SheetState.not_answered
            else status
        ).model_dump(mode="json")
        for status in statuses.values()
    ]


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
            raise NoCurrentOfficer(Msg("Ministry {code} has no current Chief AI Officer to revoke.", code=self.code))
        self._revoked(officer_id=self.caio["officer_id"], meta=meta)

    @event("ChiefAIOfficerRevoked")
    def _revoked(self, officer_id: str, meta: EventMeta) -> None:
        self.caio = None

    def _require_designated(self, meta: EventMeta, refusal: str) -> None:
        """``refusal``: the act's own refusal (one ``N_`` message with ``{code}`` and ``{actor}``), so that it
        is translated whole rather than pieced together from phrases."""
        if self.caio is None or self.caio["officer_id"] != meta.actor_id:
            raise NotTheDesignatedOfficer(Msg(refusal, code=self.code, actor=meta.actor_id))

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
        self._require_designated(
            meta,
            N_("Only the designated Chief AI Officer of {code} issues its usage rules; {actor} is not designated now."),
        )
        latest = date.fromisoformat(self.usage_rules_effective_from) if self.usage_rules_effective_from else None
        problems = usage_rules_problems(text, reference, reference_hash, effective_from, latest)
        if problems:
            raise InvalidInputs(N_("The usage rules cannot be issued as sent."), problems)
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
        self._require_designated(
            meta,
            N_(
                "Only the designated Chief AI Officer of {code} submits its periodic report; "
                "{actor} is not designated now."
            ),
        )
        if not PERIOD.match(period):
            raise InvalidInput(N_("The period must look like 2026H1 or 2026H2."), "period", "pattern")
        if as_of.tzinfo is None:
            raise InvalidInput(N_("as_of needs its UTC offset."), "as_of", "timezone")
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
        self.sheets: dict[str, Any] = {}
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
        self._procurement_stage()
        self._procurement_recorded(record=record, meta=meta)

    @event("ProcurementRecorded")
    def _procurement_recorded(self, record: dict[str, Any], meta: EventMeta) -> None:
        self.procurement = dict(record)
        self.sheets = {}  # free-form answers (the version-1 body) replace any answers to published sheets

    # -- check sheets ---------------------------------------------------------------------------------

    @property
    def sheet_state(self) -> dict[str, Any]:
        """Answers to published check sheets by kind (a project loaded from a snapshot taken before check sheets
        existed has none)."""
        state: dict[str, Any] = self.__dict__.setdefault("sheets", {})
        return state

    def sheet_statuses(
        self, sheets: Mapping[SheetKind, CheckSheet], facts: ProjectFacts
    ) -> dict[SheetKind, SheetStatus]:
        return sheet_statuses(self.sheet_state, sheets, facts)

    def answer_sheets(
        self,
        vendor: str,
        contract_reference: str,
        answered: list[dict[str, Any]],
        sheets: Mapping[SheetKind, CheckSheet],
        facts: ProjectFacts,
        meta: EventMeta,
    ) -> None:
        """Record answers to pinned sheet versions (the application checked them complete for ``facts``)."""
        self._procurement_stage()
        after = sheets_after_answers(self.sheet_state, answered)
        self._sheets_answered(
            vendor=vendor,
            contract_reference=contract_reference,
            sheets=answered,
            status=_recorded(sheet_statuses(after, sheets, facts)),
            meta=meta,
        )

    @event("CheckSheetsAnswered")
    def _sheets_answered(
        self,
        vendor: str,
        contract_reference: str,
        sheets: list[dict[str, Any]],
        status: list[dict[str, Any]],
        meta: EventMeta,
    ) -> None:
        self.sheets = sheets_after_answers(self.sheet_state, sheets)
        flattened = {
            kind: [
                {"item": answer["item"], "answer": answer["answer"], "note": answer["note"]}
                for sheet in sheets
                if sheet["kind"] == kind
                for answer in sheet["answers"]
            ]
            for kind in SheetKind
        }
        self.procurement = {
            "vendor": vendor,
            "contract_reference": contract_reference,
            "procurement_checks": flattened[SheetKind.procurement],
            "contract_checks": flattened[SheetKind.contract],
        }

    def accept_item_risk(
        self, kind: SheetKind, item: str, sheets: Mapping[SheetKind, CheckSheet], facts: ProjectFacts, meta: EventMeta
    ) -> None:
        """The designated CAIO accepts the risk of an item answered not_met (the application checks who is
        designated, in the transaction that records it)."""
        recorded = self.sheet_state.get(kind.value)
        answer = (recorded or {}).get("answers", {}).get(item)
        if recorded is None or answer is None:
            raise CheckSheetRuleViolated(
                Msg("Only an item answered not_met needs a risk acceptance; {kind} item {item} is not answered.",
                    kind=kind.value, item=item)
            )  # fmt: skip
        if answer["answer"] != CheckAnswer.not_met:
            raise CheckSheetRuleViolated(
                Msg("Only an item answered not_met needs a risk acceptance; {kind} item {item} is answered {answer}.",
                    kind=kind.value, item=item, answer=answer["answer"])
            )  # fmt: skip
        if item in recorded["accepted"]:
            raise CheckSheetRuleViolated(
                Msg("The risk of {kind} item {item} is already accepted as answered.", kind=kind.value, item=item)
            )
        after = sheets_after_acceptance(self.sheet_state, kind.value, item)
        self._item_risk_accepted(
            kind=kind.value,
            sheet_id=recorded["sheet_id"],
            version=recorded["version"],
            item=item,
            status=_recorded(sheet_statuses(after, sheets, facts)),
            meta=meta,
        )

    @event("CheckItemRiskAccepted")
    def _item_risk_accepted(
        self, kind: str, sheet_id: str, version: int, item: str, status: list[dict[str, Any]], meta: EventMeta
    ) -> None:
        self.sheets = sheets_after_acceptance(self.sheet_state, kind, item)

    def reopen_newly_applicable(
        self,
        before: ProjectFacts,
        after: ProjectFacts,
        cause: ReopenCause,
        sheets: Mapping[SheetKind, CheckSheet],
        meta: EventMeta,
    ) -> None:
        """A change of the project (its data, deployment or classification) that makes items of an answered sheet
        apply that are not answered reopens that sheet, naming them; one that makes fewer items apply records the
        sheets' new status (so reports never show items missing that no longer apply)."""
        was, now = self.sheet_statuses(sheets, before), self.sheet_statuses(sheets, after)
        reopened = False
        for kind in SheetKind:
            newly = [item for item in now[kind].missing if item not in was[kind].missing]
            if kind.value in self.sheet_state and newly:
                self.reopen(kind, newly, cause, sheets, after, meta)
                reopened = True
        if not reopened and self.sheet_state and _recorded(now) != _recorded(was):
            self._sheet_status_changed(cause=cause.value, status=_recorded(now), meta=meta)

    @event("CheckSheetStatusChanged")
    def _sheet_status_changed(self, cause: str, status: list[dict[str, Any]], meta: EventMeta) -> None:
        pass

    def reopen(
        self,
        kind: SheetKind,
        items: list[str],
        cause: ReopenCause,
        sheets: Mapping[SheetKind, CheckSheet],
        facts: ProjectFacts,
        meta: EventMeta,
    ) -> None:
        recorded = self.sheet_state[kind.value]
        after = sheets_after_reopen(self.sheet_state, kind.value, items)
        self._sheet_reopened(
            kind=kind.value,
            sheet_id=recorded["sheet_id"],
            version=recorded["version"],
            items=items,
            cause=cause.value,
            status=_recorded(sheet_statuses(after, sheets, facts)),
            meta=meta,
        )

    @event("CheckSheetReopened")
    def _sheet_reopened(
        self,
        kind: str,
        sheet_id: str,
        version: int,
        items: list[str],
        cause: str,
        status: list[dict[str, Any]],
        meta: EventMeta,
    ) -> None:
        self.sheets = sheets_after_reopen(self.sheet_state, kind, items)

    def notice_model_change(
        self, notice: Mapping[str, str], sheets: Mapping[SheetKind, CheckSheet], facts: ProjectFacts, meta: EventMeta
    ) -> None:
        """Record a vendor's notice of a model change (the risk service makes the classification stale) and reopen
        the answered contract items a model change reopens."""
        if self.stage in (Stage.planning, Stage.retired):
            raise StageRuleViolated(
                Msg("A model change is noticed for a procured project; the project is in {stage}.",
                    stage=Stage(self.stage).value)
            )  # fmt: skip
        self._model_change_noticed(**notice, meta=meta)
        contract = self.sheet_state.get(SheetKind.contract.value)
        sheet = sheets.get(SheetKind.contract)
        if contract is None or sheet is None:
            return
        items = [item for item in checksheets.reopened_by_model_change(sheet) if item in contract["answers"]]
        if items:
            self.reopen(SheetKind.contract, items, ReopenCause.model_change, sheets, facts, meta)

    @event("ModelChangeNoticed")
    def _model_change_noticed(
        self, provider: str, model: str, model_version: str, effective_date: str, changes: str, meta: EventMeta
    ) -> None:
        pass

    def _procurement_stage(self) -> None:
        if self.stage in (Stage.planning, Stage.retired):
            raise StageRuleViolated(
                Msg(
                    "Procurement is recorded from the procurement stage on, and not after retirement; the project "
                    "is in {stage}.",
                    stage=Stage(self.stage).value,
                )
            )

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


class CheckSheetVersion(Aggregate):
    """One published version of a check sheet; its id derives from (sheet id, version): published once."""

    @staticmethod
    def create_id(sheet_id: str, version: int) -> UUID:
        return check_sheet_version_id(sheet_id, version)

    @event("CheckSheetPublished")
    def __init__(
        self, sheet_id: str, version: int, kind: str, content_hash: str, content: dict[str, Any], meta: EventMeta
    ):
        self.sheet_id = sheet_id
        self.sheet_version = version
        self.kind = kind
        self.content_hash = content_hash
        self.content = content

    @property
    def sheet(self) -> CheckSheet:
        return checksheets.parse(self.content)


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
