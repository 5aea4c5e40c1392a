"""Keyset pagination (shared.pagination): following cursors serves every item once, in order, whatever the page size."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Response
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from shared.pagination import PageRequest, decode_cursor, encode_cursor
from shared.problems import Unprocessable

Item = dict[str, Any]


def request_for(query: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("aigov", 80),
            "path": "/v1/things",
            "query_string": query.encode(),
            "headers": [],
        }
    )


def walk(items: list[Item], limit: int) -> list[Item]:
    """Every page of ``items`` from the first, following ``next_cursor`` as a client would."""
    served: list[Item] = []
    cursor: str | None = None
    while True:
        paging = PageRequest(
            limit=limit,
            after=decode_cursor(cursor) if cursor else None,
            request=request_for("stage=planning"),
            response=Response(),
        )
        page = paging.page(items, lambda item: (item["at"], item["id"]))
        served += page["items"]
        assert len(page["items"]) <= limit
        if page["next_cursor"] is None:
            assert page["next"] is None and "link" not in paging.response.headers
            return served
        assert page["next"] == f"/v1/things?stage=planning&cursor={page['next_cursor']}"
        assert paging.response.headers["link"] == f'<{page["next"]}>; rel="next"'
        cursor = page["next_cursor"]


records = st.lists(
    st.fixed_dictionaries(
        {"at": st.sampled_from(["2026-06-12", "2026-07-01", "2026-11-25"]), "id": st.uuids().map(str)}
    ),
    unique_by=lambda item: item["id"],
    max_size=30,
)


@given(records, st.integers(min_value=1, max_value=12))
def test_following_next_serves_each_item_once_in_key_order(items: list[Item], limit: int) -> None:
    assert walk(items, limit) == sorted(items, key=lambda item: (item["at"], item["id"]))


@given(st.lists(st.one_of(st.text(max_size=8), st.integers()), min_size=1, max_size=4))
def test_a_cursor_names_the_key_it_was_made_from(key: list[Any]) -> None:
    assert decode_cursor(encode_cursor(tuple(key))) == tuple(key)


@pytest.mark.parametrize("cursor", ["not base64!", "e30", "W10", "WzEuNV0", "W3RydWVd", "bnVsbA"])
def test_a_cursor_this_service_did_not_issue_is_refused_naming_the_field(cursor: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        decode_cursor(cursor)
    assert refused.value.body()["errors"][0]["field"] == "query.cursor"


def test_a_cursor_of_another_list_is_refused() -> None:
    paging = PageRequest(
        limit=5, after=decode_cursor(encode_cursor((7,))), request=request_for(""), response=Response()
    )
    with pytest.raises(Unprocessable):
        paging.page([{"at": "2026-06-12", "id": "a"}], lambda item: (item["at"], item["id"]))
