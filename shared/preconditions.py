"""Optimistic concurrency over HTTP: an ``ETag`` names a resource's version; every change of it sends ``If-Match``.

Why: two officers editing the same record must never silently overwrite each other. The version an ETag names
is the aggregate's event count, and the check runs on the very aggregate the command then changes, so a stale
``If-Match`` is 412 and a change sent without one is 428 (RFC 9110 §13.1.1, RFC 6585 §3) instead of a blind
write. If a concurrent writer slips in between the check and the save, the log's own optimistic concurrency
refuses the second write with 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response

from shared.concurrency import ANY_VERSION, IfMatch, etag
from shared.i18n import N_, Msg
from shared.problems import PreconditionRequired, Problem

__all__ = ["ANY_VERSION", "IfMatch", "RequiredIfMatch", "etag", "parse_if_match", "tag"]

IF_MATCH_DESCRIPTION = (
    'The ETag of the version being changed, from the last GET or write, e.g. "3". `*` accepts any current version.'
)


def tag(response: Response, version: int) -> None:
    """Expose the version a client must send back in ``If-Match`` to change the resource."""
    response.headers["ETag"] = etag(version)


def parse_if_match(value: str | None) -> IfMatch:
    """``"3"`` or ``"3", "4"`` or ``*``; 428 when missing. Weak tags never match (strong comparison)."""
    if value is None or not value.strip():
        raise PreconditionRequired(
            N_('Send If-Match with the ETag of the version you are changing, e.g. If-Match: "3".')
        )
    if value.strip() == "*":
        return ANY_VERSION
    versions = set()
    for candidate in (part.strip() for part in value.split(",")):
        inner = candidate[1:-1] if len(candidate) >= 2 and candidate[0] == candidate[-1] == '"' else ""
        if inner.isascii() and inner.isdigit():
            if len(inner) > MAX_VERSION_DIGITS:  # no aggregate reaches it; int() of 5,000 digits would even raise
                raise InvalidIfMatch(
                    Msg(
                        "If-Match names a version of {digits} digits; versions have at most {limit}.",
                        digits=len(inner),
                        limit=MAX_VERSION_DIGITS,
                    ),
                    errors=[{"field": "header.If-Match", "message": "version too long", "type": "invalid_if_match"}],
                )
            versions.add(int(inner))
    return IfMatch(frozenset(versions))


MAX_VERSION_DIGITS = 18


class InvalidIfMatch(Problem):
    status, slug, title = 400, "invalid-if-match", "Unreadable If-Match"


def if_match_header(
    if_match: Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_DESCRIPTION)] = None,
) -> IfMatch:
    """FastAPI dependency: the parsed ``If-Match`` of a change (documented as required in the OpenAPI document)."""
    return parse_if_match(if_match)


RequiredIfMatch = Annotated[IfMatch, Depends(if_match_header)]
