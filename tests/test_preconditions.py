"""If-Match parsing (RFC 9110 §13.1.1): strong tags name versions, weak tags never match, blank is 428."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import StaleVersion
from shared.preconditions import ANY_VERSION, etag, parse_if_match
from shared.problems import PreconditionRequired

versions = st.integers(min_value=1, max_value=10**9)


@given(versions)
def test_the_etag_of_a_version_is_the_if_match_that_accepts_it(version: int) -> None:
    parse_if_match(etag(version)).check(version, "project")
    with pytest.raises(StaleVersion):
        parse_if_match(etag(version)).check(version + 1, "project")


@given(st.lists(versions, min_size=1, max_size=5), versions)
def test_a_list_of_tags_accepts_any_of_them_and_nothing_else(listed: list[int], current: int) -> None:
    if_match = parse_if_match(", ".join(etag(version) for version in listed))
    if current in listed:
        if_match.check(current, "assessment")
    else:
        with pytest.raises(StaleVersion):
            if_match.check(current, "assessment")


@given(versions)
def test_weak_and_unquoted_tags_never_match(version: int) -> None:
    for value in (f"W/{etag(version)}", str(version), f"'{version}'"):
        with pytest.raises(StaleVersion):
            parse_if_match(value).check(version, "incident")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_if_match_is_precondition_required(value: str | None) -> None:
    with pytest.raises(PreconditionRequired):
        parse_if_match(value)


def test_star_accepts_whatever_version_is_current() -> None:
    assert parse_if_match(" * ") is ANY_VERSION
    ANY_VERSION.check(41, "ministry")


@given(st.text(max_size=40))
def test_any_header_text_is_parsed_or_refused_as_a_problem(value: str) -> None:
    with contextlib.suppress(PreconditionRequired, StaleVersion):
        parse_if_match(value).check(1, "project")
