"""Why a command or query was refused, in the domain's own words: errors that know nothing of HTTP.

Domain and application code raise these; ``shared.problems`` maps each kind to its RFC 9457 problem once, so
routers carry no ``try``/``except`` and the rules can be tested and reused without a web framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Refused(Exception):
    """A command or query the rules refuse. ``extra`` holds what the client needs to act on it (the allowed
    next stages, the missing steps, the current classification, …) and becomes members of the problem."""

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(Refused):
    """The thing named does not exist (or did not at the moment asked for)."""


class NotAuthorized(Refused):
    """The identity does not hold the authority the command needs at the moment it is recorded (e.g. it is no
    longer the designated CAIO)."""


class RuleViolated(Refused):
    """A rule of the guideline forbids the command in the current state."""


class AlreadyExists(RuleViolated):
    """The thing to create exists already (a ministry code, a ruleset version with other content)."""


class StaleVersion(Refused):
    """The aggregate moved on since the client read it; ``current_version`` says where it is now."""


class Incomplete(Refused):
    """Something the rules require is missing; ``missing`` names every missing part (paths in the command's
    input, e.g. ``quality_assurance.metrics[0].name``)."""

    def __init__(self, detail: str, missing: list[str], **extra: Any):
        super().__init__(detail, **extra)
        self.missing = missing


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one input: its path in the command's input (``""``: the input as a whole), a message
    for people and a stable kind for programs."""

    path: str
    message: str
    kind: str

    @property
    def field(self) -> str:
        """The field as clients name it: every command's input is the body of its request."""
        return f"body.{self.path}" if self.path else "body"


class InvalidInputs(Refused):
    """Inputs of the command that are not acceptable, each named."""

    def __init__(self, detail: str, problems: list[FieldProblem], **extra: Any):
        super().__init__(detail, **extra)
        self.problems = problems


class InvalidInput(InvalidInputs):
    """One input of the command that is not acceptable."""

    def __init__(self, detail: str, path: str, kind: str, message: str | None = None, **extra: Any):
        super().__init__(detail, [FieldProblem(path, message or detail, kind)], **extra)

    @property
    def field(self) -> str:
        return self.problems[0].field
