"""Unit tests of shared pieces: the hash chain, problem field paths, development tokens."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.auth import Principal, decode_token, issue_dev_token
from shared.hashchain import GENESIS_HASH, ChainedRecord, canonical_bytes, link, verify_chain
from shared.problems import Forbidden, Unauthorized, field_path
from shared.settings import Settings

ORIGIN = uuid.UUID(int=1)


def chain(states: list[bytes]) -> list[ChainedRecord]:
    records, previous = [], GENESIS_HASH
    for position, state in enumerate(states, start=1):
        previous = link(previous, canonical_bytes(position, ORIGIN, position, "topic", state))
        records.append(ChainedRecord(position, ORIGIN, position, "topic", state, previous))
    return records


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=20), st.data())
def test_any_single_changed_byte_is_found_at_its_position(states: list[bytes], data: st.DataObject) -> None:
    records = chain(states)
    assert verify_chain(records).ok
    index = data.draw(st.integers(0, len(records) - 1))
    original = records[index]
    state = bytearray(original.state or b"\x00")
    byte = data.draw(st.integers(0, len(state) - 1))
    state[byte] ^= 0x01
    records[index] = ChainedRecord(
        original.position, ORIGIN, original.originator_version, "topic", bytes(state), original.stored_hash
    )
    result = verify_chain(records)
    assert not result.ok and result.first_bad_position == original.position and result.checked == index


def test_swapping_two_events_breaks_the_chain_at_the_first() -> None:
    records = chain([b"a", b"b", b"c"])
    swapped = [
        records[0],
        ChainedRecord(2, ORIGIN, 2, "topic", b"c", records[2].stored_hash),
        ChainedRecord(3, ORIGIN, 3, "topic", b"b", records[1].stored_hash),
    ]
    assert verify_chain(swapped).first_bad_position == 2


def test_field_paths_read_like_the_request() -> None:
    assert field_path(("body", "models", 0, "provider")) == "body.models[0].provider"
    assert field_path(("query", "limit")) == "query.limit"


def test_development_tokens_round_trip_and_forged_ones_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(var_dir=tmp_path)
    token = issue_dev_token(settings, "alice", "Alice", ["planner"], "MIC")
    assert decode_token(settings, token) == Principal("alice", "Alice", frozenset({"planner"}), "MIC")
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0
    other = issue_dev_token(
        Settings(var_dir=tmp_path, jwt_secret="another-key-" + "y" * 32), "alice", "Alice", ["admin"], None
    )
    with pytest.raises(Unauthorized):
        decode_token(settings, other)
    with pytest.raises(Unauthorized):
        decode_token(settings, issue_dev_token(settings, "a", "A", ["planner"], "MIC", ttl=-10))
    with pytest.raises(ValueError, match="unknown roles"):
        issue_dev_token(settings, "a", "A", ["king"], None)


def test_a_planner_acts_only_for_their_own_ministry() -> None:
    alice = Principal("alice", "Alice", frozenset({"planner"}), "MIC")
    assert alice.act_as("planner", ministry="MIC").role == "planner"
    with pytest.raises(Forbidden, match="cannot act for ministry MOF"):
        alice.act_as("planner", ministry="MOF")
    with pytest.raises(Forbidden, match="needs the role admin"):
        alice.act_as("admin")
