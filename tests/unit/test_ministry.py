"""Ministry: establish, designate_caio, revoke_caio, and the CAIO history rule, on in-memory persistence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain import Ministry, NoCurrentOfficer, caio_history
from tests.unit.memory import ADMIN, InMemoryLog, assert_replay_equals_live, assert_stale_copy_refused, meta


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("registry")


def mic() -> Ministry:
    return Ministry(code="MIC", name="Ministry of Internal Affairs", meta=ADMIN)


# -- establish -----------------------------------------------------------------------------------------------


def test_establishing_records_the_ministry_under_an_id_derived_from_its_code(log: InMemoryLog) -> None:
    ministry = mic()
    log.save(ministry)
    assert ministry.id == Ministry.create_id("MIC") != Ministry.create_id("MOF")
    assert log.types() == ["MinistryEstablished"]
    loaded = log.repository.get(Ministry.create_id("MIC"))
    assert (loaded.code, loaded.name, loaded.caio) == ("MIC", "Ministry of Internal Affairs", None)


def test_establishing_a_ministry_code_twice_is_refused(log: InMemoryLog) -> None:
    from eventsourcing.persistence import IntegrityError

    log.save(mic())
    with pytest.raises(IntegrityError):
        log.save(Ministry(code="MIC", name="Another name", meta=ADMIN))
    assert log.types() == ["MinistryEstablished"]
    assert log.repository.get(Ministry.create_id("MIC")).name == "Ministry of Internal Affairs"


# -- designate_caio ------------------------------------------------------------------------------------------


def test_designating_a_caio_records_the_officer_and_whom_they_replace(log: InMemoryLog) -> None:
    ministry = mic()
    ministry.designate_caio("c1", "Carol", ADMIN)
    ministry.designate_caio("c2", "Dan", ADMIN)
    first, second = ministry.pending_events[1:]
    assert (first.officer_id, first.previous_officer_id) == ("c1", None)
    assert (second.officer_id, second.previous_officer_id) == ("c2", "c1")
    assert ministry.caio == {"officer_id": "c2", "name": "Dan"}
    assert_replay_equals_live(log, ministry)


def test_a_designation_on_a_stale_copy_of_the_ministry_is_refused(log: InMemoryLog) -> None:
    assert_stale_copy_refused(log, mic(), lambda ministry: ministry.designate_caio("c1", "Carol", ADMIN))


# -- revoke_caio ---------------------------------------------------------------------------------------------


def test_revoking_ends_the_current_designation(log: InMemoryLog) -> None:
    ministry = mic()
    ministry.designate_caio("c1", "Carol", ADMIN)
    ministry.revoke_caio(ADMIN)
    revoked = ministry.pending_events[-1]
    assert type(revoked).__name__ == "ChiefAIOfficerRevoked" and revoked.officer_id == "c1"
    assert ministry.caio is None
    assert_replay_equals_live(log, ministry)


def test_revoking_without_a_current_caio_is_refused_and_records_nothing() -> None:
    ministry = mic()
    ministry.designate_caio("c1", "Carol", ADMIN)
    ministry.revoke_caio(ADMIN)
    ministry.collect_events()
    with pytest.raises(NoCurrentOfficer):
        ministry.revoke_caio(ADMIN)
    assert ministry.collect_events() == [] and ministry.caio is None


def test_never_designated_ministry_cannot_revoke() -> None:
    with pytest.raises(NoCurrentOfficer):
        mic().revoke_caio(ADMIN)


def test_a_revocation_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    ministry = mic()
    ministry.designate_caio("c1", "Carol", ADMIN)
    assert_stale_copy_refused(log, ministry, lambda copy: copy.revoke_caio(ADMIN))


# -- caio_history --------------------------------------------------------------------------------------------


def test_the_history_closes_each_designation_by_the_replacement_or_revocation_that_ended_it(log: InMemoryLog) -> None:
    ministry = mic()
    ministry.designate_caio("c1", "Carol", meta("root", "admin", None, "appointed"))
    ministry.designate_caio("c2", "Dan", meta("root2", "admin", None, "reshuffle"))
    ministry.revoke_caio(meta("root3", "admin", None, "resigned"))
    ministry.designate_caio("c3", "Eve", meta("root", "admin", None, "appointed"))
    log.save(ministry)
    history = caio_history(list(log.events.get(ministry.id)))
    assert [(item["officer_id"], item["ended_how"], item["ended_by"]) for item in history] == [
        ("c1", "replaced", "root2"),
        ("c2", "revoked", "root3"),
        ("c3", None, None),
    ]
    assert [item["reason"] for item in history] == ["appointed", "reshuffle", "appointed"]
    assert history[0]["end_reason"] == "reshuffle" and history[1]["end_reason"] == "resigned"
    assert history[0]["ended_at"] == history[1]["designated_at"]


@given(st.lists(st.one_of(st.none(), st.sampled_from(["c1", "c2", "c3"])), max_size=12))
def test_the_history_has_one_entry_per_designation_and_at_most_the_last_one_open(steps: list[str | None]) -> None:
    """Any sequence of designations (an officer id) and revocations (None): the history lists the designations
    in order, only the current one is open, and it is open exactly when the ministry has a CAIO."""
    ministry = mic()
    for officer in steps:
        if officer is not None:
            ministry.designate_caio(officer, officer.upper(), ADMIN)
        elif ministry.caio is not None:
            ministry.revoke_caio(ADMIN)
    history = caio_history(ministry.collect_events())
    assert [item["officer_id"] for item in history] == [officer for officer in steps if officer is not None]
    assert all(item["ended_at"] is not None for item in history[:-1])
    if history:
        assert (history[-1]["ended_at"] is None) == (ministry.caio is not None)
    else:
        assert ministry.caio is None
