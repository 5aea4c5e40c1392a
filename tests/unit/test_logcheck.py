"""The one-pass log and export checks (shared/logcheck.py, verify_export_all) give exactly the verdicts of the
separate chain and tree checks they replace, on intact logs and on every kind of tampering, with no database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared import checkpoints
from shared.export import checkpoint_line, event_line, verify_export
from shared.hashchain import GENESIS_HASH, ChainedRecord, canonical_bytes, link, verify_chain
from shared.logcheck import MISMATCH, NO_LINK, check_pages
from shared.transparency import merkle
from shared.transparency.audit import Finding, TrustedHead, check_records
from shared.transparency.exports import tree_checkpoint_line, verify_export_all, verify_export_tree
from shared.transparency.note import Checkpoint, SignatureType, SignedCheckpoint, Signer

TOPIC = "services.registry.domain:Project.Registered"


def rows(count: int, sqlite_ids: bool = False) -> list[list[Any]]:
    """A chained log as the drivers return it (ids as text, or as SQLite's 16 bytes), in pages of 7."""
    out, previous = [], GENESIS_HASH
    for position in range(1, count + 1):
        identity = uuid.UUID(int=position * 7919)
        state = json.dumps({"n": position, "name": f"案件 {position}"}, ensure_ascii=False).encode()
        previous = link(previous, canonical_bytes(position, identity, 1, TOPIC, state))
        out.append([position, identity.bytes if sqlite_ids else str(identity), 1, TOPIC, state, previous])
    return [out[start : start + 7] for start in range(0, count, 7)]


def records(pages: list[list[Any]]) -> list[ChainedRecord]:
    return [ChainedRecord(p, str(uuid.UUID(bytes=o)) if isinstance(o, bytes) else o, v, t, s, h)
            for page in pages for p, o, v, t, s, h in page]  # fmt: skip


def root_at(pages: list[list[Any]], size: int) -> bytes:
    leaves = [merkle.leaf_hash(canonical_bytes(r.position, r.originator_id, 1, r.topic, r.state))
              for r in records(pages)[:size]]  # fmt: skip
    return merkle.MemoryTree(leaves).root() if leaves else merkle.EMPTY_ROOT


def tampered(pages: list[list[Any]], position: int, column: int, value: Any) -> list[list[Any]]:
    changed = [[list(row) for row in page] for page in pages]
    for page in changed:
        for row in page:
            if row[0] == position:
                row[column] = value
    return changed


def same_as_separate_checks(pages: list[list[Any]], trusted: list[TrustedHead]) -> None:
    together = check_pages(pages, trusted)
    assert together.chain == verify_chain(records(pages))
    assert together.tree == check_records(records(pages), trusted)


@pytest.mark.parametrize("sqlite_ids", [False, True])
def test_an_intact_log_gives_the_chain_and_tree_verdicts_of_the_two_passes(sqlite_ids: bool) -> None:
    pages = rows(40, sqlite_ids)
    trusted = [TrustedHead(size, root_at(pages, size), f"head {size}") for size in (0, 13, 13, 40)]
    result = check_pages(pages, trusted)
    assert result.chain.ok and result.chain.checked == 40 and result.chain.head_position == 40
    assert result.chain.head_hash == pages[-1][-1][5]
    assert result.tree is not None and result.tree.ok and result.tree.checked_against == 4
    same_as_separate_checks(pages, trusted)


@pytest.mark.parametrize("sqlite_ids", [False, True])
def test_a_changed_byte_breaks_the_chain_there_and_the_tree_at_the_first_trusted_size_after(sqlite_ids: bool) -> None:
    pages = rows(40, sqlite_ids)
    trusted = [TrustedHead(size, root_at(pages, size), f"head {size}") for size in (10, 30)]
    changed = tampered(pages, 17, 4, b'{"n": 17, "name": "edited"}')
    result = check_pages(changed, trusted)
    assert (result.chain.ok, result.chain.first_bad_position, result.chain.problem) == (False, 17, MISMATCH)
    assert result.chain.checked == 16 and result.chain.head_position == 16
    assert result.tree is not None and result.tree.finding == Finding.REWRITTEN and result.tree.first_position == 11
    same_as_separate_checks(changed, trusted)


def test_a_rewritten_history_with_a_recomputed_chain_is_caught_by_the_tree_alone() -> None:
    pages = rows(30)
    trusted = [TrustedHead(30, root_at(pages, 30), "witness")]
    forged, previous = [], GENESIS_HASH  # the forger edits position 5 and re-chains everything after it
    for page in tampered(pages, 5, 4, b'{"forged": true}'):
        for row in page:
            previous = link(previous, canonical_bytes(row[0], row[1], row[2], row[3], row[4]))
            row[5] = previous
        forged.append(page)
    result = check_pages(forged, trusted)
    assert result.chain.ok
    assert result.tree is not None and result.tree.finding == Finding.REWRITTEN and result.tree.first_position == 1
    same_as_separate_checks(forged, trusted)


def test_a_missing_link_a_truncated_log_and_a_chain_only_check() -> None:
    pages = rows(20)
    unlinked = tampered(pages, 9, 5, None)
    result = check_pages(unlinked, [TrustedHead(25, b"\x00" * 32, "witness")])
    assert (result.chain.first_bad_position, result.chain.problem) == (9, NO_LINK)
    assert result.tree is not None and result.tree.finding == Finding.TRUNCATED
    same_as_separate_checks(unlinked, [TrustedHead(25, b"\x00" * 32, "witness")])
    chain_only = check_pages(unlinked, None)
    assert chain_only.tree is None and chain_only.chain == verify_chain(records(unlinked))


def test_an_id_in_another_form_is_normalised_as_the_reference_function_does() -> None:
    pages = rows(3)
    own = tampered(pages, 2, 1, uuid.UUID(pages[0][1][1]))  # position 2's own id, as a UUID object
    assert check_pages(own, None).chain.ok
    other = tampered(pages, 2, 1, uuid.UUID(pages[0][0][1]))  # position 1's id at position 2
    assert check_pages(other, None).chain.first_bad_position == 2
    cut = tampered(rows(3, sqlite_ids=True), 2, 1, uuid.UUID(pages[0][1][1]).bytes[:15])  # a stored id cut short
    assert check_pages(cut, None).chain.first_bad_position == 2  # reported where it is, not a crash


# -- exports ---------------------------------------------------------------------------------------------------


def export(pages: list[list[Any]], key: Ed25519PrivateKey, signer: Signer) -> list[str]:
    lines = [event_line("registry", *row) for page in pages for row in page]
    last = pages[-1][-1]
    note = SignedCheckpoint.sign(Checkpoint(signer.name, last[0], root_at(pages, last[0])), signer).render()
    lines.append(tree_checkpoint_line("registry", note))
    for service, position, head in (("registry", last[0], last[5]), ("risk", 0, GENESIS_HASH)):
        lines.append(checkpoint_line(checkpoints.sign(key, service, position, head, datetime.now(UTC).isoformat())))
    return lines


@pytest.mark.parametrize("edit", ["none", "state", "link", "checkpoint", "not json"])
def test_the_export_pass_gives_the_verdicts_of_the_chain_and_the_tree_verifiers(edit: str) -> None:
    key = Ed25519PrivateKey.generate()
    signer = Signer("aigov.test/registry", SignatureType.ED25519, key)
    lines = export(rows(25), key, signer)
    if edit == "state":
        lines[6] = lines[6].replace("案件 7", "案件 8")
    elif edit == "link":
        lines[3] = lines[3].replace('"hash":"', '"hash":"0')
    elif edit == "checkpoint":
        lines[-1] = lines[-1].replace('"head_position":0', '"head_position":1')
    elif edit == "not json":
        lines[10] = lines[10][:-1]
    chain, tree = verify_export_all(lines, key.public_key(), [], [])
    assert chain == verify_export(lines, key.public_key())
    if edit == "not json":  # the separate tree pass raised JSONDecodeError here; the one pass names the line
        assert tree.problem == "line 11 is not an export record"
    else:
        assert tree.as_dict() == verify_export_tree(lines, key.public_key(), [], []).as_dict()
    # a link or a JSON checkpoint is outside the Merkle leaves: only the chain sees those edits
    assert (chain.ok, tree.ok) == {
        "none": (True, True),
        "state": (False, False),
        "link": (False, True),
        "checkpoint": (False, True),
        "not json": (False, False),
    }[edit]
