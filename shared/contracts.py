"""What a service publishes about its log, so that others can read it without importing its package.

A service's contract (``services/<service>/contract.py``) names each event type it records, the schema
version it writes now, a Pydantic model of its payload and the upcasters that lift older stored versions to
the current one. Readers (followers, reporting, the offline CLI, an upstream run by another organisation)
need nothing else: events stay as they were stored, and old shapes are lifted when they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]
P = TypeVar("P", bound="EventPayload")


class EventPayload(BaseModel):
    """The data of one event as the log serves it (the envelope's ``data``): JSON values only."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class EventType:
    """One event type of a contract: its name, the version written now, its payload, and how to lift old versions.

    ``upcasters[v]`` turns a version-``v`` payload into a version ``v + 1`` payload."""

    name: str
    payload: type[EventPayload]
    version: int = 1
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)
    description: str = ""

    def upcast(self, version: int, data: Payload) -> Payload:
        """The payload lifted from ``version`` to the current version."""
        while version < self.version:
            data = self.upcasters[version](dict(data))
            version += 1
        return data


class UnknownEventType(LookupError):
    """An event type the contract does not declare (a newer producer, or a reader with an old contract)."""


class Contract:
    """The published events of one service's log."""

    def __init__(self, service: str, events: Iterable[EventType], description: str = ""):
        self.service = service
        self.description = description
        self.events: dict[str, EventType] = {event_type.name: event_type for event_type in events}

    def __contains__(self, name: object) -> bool:
        return name in self.events

    def event_type(self, name: str) -> EventType:
        try:
            return self.events[name]
        except KeyError:
            raise UnknownEventType(f"{self.service} publishes no event type {name!r}") from None

    def upcast(self, name: str, version: int, data: Payload) -> tuple[int, Payload]:
        """``(current version, payload)`` of a stored event; types the contract does not know pass unchanged."""
        if name not in self.events:
            return version, data
        event_type = self.events[name]
        return event_type.version, event_type.upcast(version, data)

    def parse(self, name: str, data: Payload, payload: type[P]) -> P:
        """The typed payload of an envelope, checked against the model the contract declares for ``name``."""
        declared = self.event_type(name).payload
        if not issubclass(declared, payload):
            raise TypeError(f"{self.service} event {name} carries {declared.__name__}, not {payload.__name__}")
        return payload.model_validate(data)

    def json_schema(self) -> dict[str, Any]:
        """The contract as one JSON Schema document (draft 2020-12): one ``$defs`` entry per event type."""
        definitions: dict[str, Any] = {}
        for name, event_type in sorted(self.events.items()):
            schema = event_type.payload.model_json_schema(ref_template=f"#/$defs/{name}/$defs/{{model}}")
            schema["title"] = name
            schema["x-aigov-schema-version"] = event_type.version
            if event_type.description:
                schema["description"] = event_type.description
            definitions[name] = schema
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:aigov:events:{self.service}",
            "title": f"Events of the {self.service} log",
            "description": self.description,
            "$defs": definitions,
        }
