"""Who did what, in which role, for which ministry, why, and as part of which request.

Every aigov event carries an ``EventMeta``: the accountability record the guideline asks for.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from eventsourcing.persistence import Transcoding

#: The correlation id of the request (or upstream event) being handled, set by the web layer and followers.
correlation_id_var: ContextVar[str | None] = ContextVar("aigov_correlation_id", default=None)


def current_correlation_id() -> str:
    """The correlation id in force, or a new one when no request set it (e.g. a CLI command)."""
    return correlation_id_var.get() or str(uuid.uuid4())


@dataclass(frozen=True)
class Actor:
    """An authenticated person acting in one role (and, for ministry-scoped roles, for one ministry)."""

    id: str
    name: str
    role: str
    ministry: str | None


@dataclass(frozen=True)
class EventMeta:
    """Accountability metadata stored inside every event."""

    actor_id: str
    actor_name: str
    actor_role: str
    ministry: str | None
    reason: str | None
    correlation_id: str

    @classmethod
    def of(cls, actor: Actor, reason: str | None = None, correlation_id: str | None = None) -> EventMeta:
        return cls(actor.id, actor.name, actor.role, actor.ministry, reason, correlation_id or current_correlation_id())

    @classmethod
    def system(cls, service: str, reason: str, ministry: str | None, correlation_id: str | None) -> EventMeta:
        """Metadata for an event a follower records in reaction to another event."""
        return cls(
            f"aigov-{service}",
            f"aigov {service} service",
            "system",
            ministry,
            reason,
            correlation_id or current_correlation_id(),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class EventMetaAsDict(Transcoding):
    """Stores ``EventMeta`` as a plain JSON object inside the event's state."""

    type = EventMeta
    name = "event_meta"

    def encode(self, obj: EventMeta) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> EventMeta:
        return EventMeta(**data)
