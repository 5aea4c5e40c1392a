"""Optimistic concurrency in the domain's terms: the versions of an aggregate a client saw and accepts to change.

Framework-free, so applications check it on the very aggregate the command changes; ``shared.preconditions``
reads it from ``If-Match`` and ``shared.problems`` answers a stale one with 412.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import StaleVersion
from shared.i18n import Msg


def etag(version: int) -> str:
    """The strong entity tag of a resource version."""
    return f'"{version}"'


@dataclass(frozen=True)
class IfMatch:
    """The versions a client accepts to change; ``None`` means ``*`` (any current version)."""

    versions: frozenset[int] | None

    def check(self, current: int, label: str) -> None:
        """Refuse unless ``current`` is one of the versions the client saw."""
        if self.versions is not None and current not in self.versions:
            named = ", ".join(etag(version) for version in sorted(self.versions)) or "no version"
            raise StaleVersion(
                Msg(
                    "The {label} is at version {current}; If-Match names {named}. Read it again and retry.",
                    label=label,
                    current=current,
                    named=named,
                ),
                current_version=current,
            )


ANY_VERSION = IfMatch(None)
