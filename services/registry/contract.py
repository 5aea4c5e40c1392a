"""The registry's published contract: the events of its log and the vocabulary other services may rely on.

Other services import this module and nothing else of the registry (import-linter enforces it); it imports
nothing of the registry either, so it can be read, exported (``docs/events/registry.json``) and versioned
on its own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.contracts import Contract, EventPayload, EventType

MINISTRY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:aigov:ministry")

#: Changes to these project fields alter the risk picture (GUIDELINE.md): an amendment touching any of them
#: is ``material`` and makes a decided classification stale.
MATERIAL_FIELDS = frozenset({"users", "nature_of_work", "business_area", "data", "human_review", "models"})


def ministry_id(code: str) -> UUID:
    """A ministry's aggregate id is derived from its code, so a code is registered once."""
    return uuid5(MINISTRY_NAMESPACE, code)


def material_fields(changed: set[str] | frozenset[str]) -> list[str]:
    """The changed fields that make an amendment material, sorted."""
    return sorted(MATERIAL_FIELDS & changed)


#: The lifecycle stages of a project (GUIDELINE.md). No docstring: it would change the OpenAPI documents.
class Stage(StrEnum):
    planning = "planning"
    procurement = "procurement"
    development = "development"
    operation = "operation"
    suspended = "suspended"
    retired = "retired"


class Created(EventPayload):
    """The first event of an aggregate also names the aggregate's class (the library's ``originator_topic``)."""

    originator_topic: str


class MinistryEstablished(Created):
    code: str
    name: str


class ChiefAIOfficerDesignated(EventPayload):
    officer_id: str
    name: str
    previous_officer_id: str | None


class ChiefAIOfficerRevoked(EventPayload):
    officer_id: str


class ProjectRegistered(Created):
    ministry: str
    details: dict[str, Any]


class ProjectAmended(EventPayload):
    changes: dict[str, Any]
    previous: dict[str, Any]
    material: bool
    material_fields: list[str]


class ProjectStageChanged(EventPayload):
    from_stage: Stage
    to_stage: Stage


class ProcurementRecorded(EventPayload):
    record: dict[str, Any]


REGISTRY = Contract(
    "registry",
    [
        EventType("MinistryEstablished", MinistryEstablished, description="A ministry or agency was registered."),
        EventType("ChiefAIOfficerDesignated", ChiefAIOfficerDesignated, description="A CAIO was designated."),
        EventType("ChiefAIOfficerRevoked", ChiefAIOfficerRevoked, description="A CAIO designation was revoked."),
        EventType("ProjectRegistered", ProjectRegistered, description="A generative-AI project was registered."),
        EventType("ProjectAmended", ProjectAmended, description="Project fields changed (material or not)."),
        EventType("ProjectStageChanged", ProjectStageChanged, description="The project moved along its lifecycle."),
        EventType("ProcurementRecorded", ProcurementRecorded, description="Vendor, contract and check sheets."),
    ],
    description="Ministries, CAIO designations and generative-AI projects with their lifecycle.",
)
