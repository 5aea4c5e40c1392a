"""The published event contracts: exported as JSON Schema without drift, and true to the events the domain records.

A reader relies on ``services/<service>/contract.py`` alone; these tests fail when an aggregate records an event
the contract does not declare, with another version, or with other payload fields."""

from __future__ import annotations

import dataclasses
import inspect
import json
from types import ModuleType

import pytest
from eventsourcing.domain import Aggregate, CanCreateTimestamp
from jsonschema import Draft202012Validator

from aigov.cli import CONTRACTS, EVENTS_DIRECTORY, event_documents
from services.registry import domain as registry_domain
from services.risk import domain as risk_domain
from shared.contracts import Contract

ENVELOPE_FIELDS = {"originator_id", "originator_version", "timestamp", "meta"}
DOMAINS: dict[str, ModuleType] = {"registry": registry_domain, "risk": risk_domain}


def recorded_event_classes(module: ModuleType) -> dict[str, type]:
    """Every event class an aggregate of ``module`` records, by event type name."""
    found: dict[str, type] = {}
    for _, aggregate in inspect.getmembers(module, inspect.isclass):
        if not issubclass(aggregate, Aggregate) or aggregate.__module__ != module.__name__:
            continue
        for name, member in vars(aggregate).items():
            is_event = inspect.isclass(member) and issubclass(member, CanCreateTimestamp) and name[0].isupper()
            if is_event and name not in ("Event", "Created", "Snapshot"):
                found[name] = member
    return found


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.service)
def test_the_exported_json_schema_matches_the_contract(contract: Contract) -> None:
    path = EVENTS_DIRECTORY / f"{contract.service}.json"
    assert path.read_text(encoding="utf-8") == event_documents()[contract.service], (
        "docs/events drifted: run `aigov contracts export`"
    )
    Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.service)
def test_every_recorded_event_is_declared_with_its_version_and_fields(contract: Contract) -> None:
    recorded = recorded_event_classes(DOMAINS[contract.service])
    assert sorted(recorded) == sorted(contract.events)
    for name, event_class in recorded.items():
        declared = contract.event_type(name)
        assert getattr(event_class, "class_version", 1) == declared.version, name
        fields = {field.name for field in dataclasses.fields(event_class)} - ENVELOPE_FIELDS
        assert fields == set(declared.payload.model_fields), name


def test_upcasters_lift_an_old_payload_to_the_current_version() -> None:
    from shared.contracts import EventPayload, EventType

    class Renamed(EventPayload):
        full_name: str

    contract = Contract(
        "example", [EventType("Named", Renamed, version=2, upcasters={1: lambda d: {"full_name": d["name"]}})]
    )
    version, data = contract.upcast("Named", 1, {"name": "Aiko"})
    assert (version, contract.parse("Named", data, Renamed).full_name) == (2, "Aiko")
    assert contract.upcast("Unknown", 1, {"x": 1}) == (1, {"x": 1})
