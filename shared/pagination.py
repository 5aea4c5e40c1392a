"""Cursor pagination for every list: ``limit`` and an opaque ``cursor`` in, ``next_cursor`` and a ``next`` link out.

Why keyset cursors rather than offsets: the registry grows while an integrator pages through it. A cursor names
the sort key of the last item served, so the next page starts strictly after it: an item added meanwhile is
never served twice and none that existed is skipped. Every list sorts on a unique key (an id breaks ties), so
the order is stable from one request to the next. The ``next`` link (also sent as ``Link: <...>; rel="next"``,
RFC 8288) repeats the request's own filters with the new cursor; clients just follow it until it is null.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from shared.problems import Unprocessable

T = TypeVar("T")
Key = tuple[str | int, ...]
DEFAULT_LIMIT, MAX_LIMIT = 100, 500


class Page(BaseModel, Generic[T]):
    """One page of a list, in the list's stable order."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    next: str | None = Field(
        description="The next page's URL (this request's query with the new cursor); null on the last page."
    )


def encode_cursor(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    """The sort key a cursor names; 422 naming ``query.cursor`` for anything this service did not issue."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as error:
        raise invalid_cursor() from error
    if (
        not isinstance(key, list)
        or not key
        or not all(isinstance(part, (str, int)) and not isinstance(part, bool) for part in key)
    ):
        raise invalid_cursor()
    return tuple(key)


def invalid_cursor() -> Unprocessable:
    return Unprocessable(
        "The cursor is not one this service issued; start again from the first page.",
        errors=[{"field": "query.cursor", "message": "invalid cursor", "type": "invalid_cursor"}],
    )


@dataclass(frozen=True)
class PageRequest:
    """What the client asked for: at most ``limit`` items after the item ``after`` names (None: from the start)."""

    limit: int
    after: Key | None
    request: Request
    response: Response

    def starts_after(self, key: Key) -> bool:
        """Whether an item with sort key ``key`` belongs on or after this page (keys of one list share a shape)."""
        if self.after is None:
            return True
        if len(key) != len(self.after) or any(type(a) is not type(b) for a, b in zip(key, self.after, strict=False)):
            raise invalid_cursor()
        return key > self.after

    def page(self, items: Sequence[T], key: Callable[[T], Key]) -> dict[str, object]:
        """The page of ``items`` (in any order; sorted here by ``key``) that this request asks for."""
        remaining = sorted((item for item in items if self.starts_after(key(item))), key=key)
        return self.fetched(remaining[: self.limit + 1], key)

    def fetched(self, rows: Sequence[T], key: Callable[[T], Key]) -> dict[str, object]:
        """A page from ``rows`` already sorted and filtered after the cursor, fetched with ``limit + 1``."""
        shown = list(rows[: self.limit])
        next_cursor = encode_cursor(key(shown[-1])) if len(rows) > self.limit else None
        url = self.request.url.remove_query_params("after").include_query_params(
            cursor=next_cursor
        )  # the cursor supersedes a log's `after`
        next_url = f"{url.path}?{url.query}" if next_cursor else None
        if next_url:
            self.response.headers["Link"] = f'<{next_url}>; rel="next"'
        return {"items": shown, "next_cursor": next_cursor, "next": next_url}


def page_request(
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=1024, description="`next_cursor` of the previous page; omit for the first page.")
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None, request=request, response=response)


Paging = Annotated[PageRequest, Depends(page_request)]
