"""JSON Merge Patch (RFC 7396): how a client edits a document by sending only what changes."""

from __future__ import annotations

from typing import Any

MEDIA_TYPE = "application/merge-patch+json"


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``target`` with ``patch`` applied: ``null`` removes a member, an object merges into an object, anything
    else (arrays included) replaces. ``target`` is left unchanged."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged
