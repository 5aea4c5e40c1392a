"""Acceptance 3 of issue 15: on a log of 10,000 events, inclusion proofs for every 100th position and
consistency proofs between 50 random pairs of sizes, served from the stored tree, verify with independent
implementations (sigstore's RFC 6962 inclusion verifier, pymerkle's roots) and with the verifier written from
docs/verifying.md alone (tests/verifier_from_docs.py)."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from pymerkle import InmemoryTree
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore.errors import VerificationError

from services.registry.application import RegistryApplication
from shared.hashchain import canonical_bytes
from shared.transparency import merkle
from shared.transparency.store import TreeReader
from tests import verifier_from_docs as doc
from tests.support import project_body
from tests.transparency_support import ADMIN, PLANNER

EVENTS = 10_000
BATCH = 1_000


def ten_thousand_events(url: str) -> RegistryApplication:
    """A ministry, a project, and amendments in batches of 1,000 events per transaction."""
    app = RegistryApplication(url)
    app.establish_ministry("MIC", "Internal Affairs", ADMIN)
    details = project_body("MIC")
    details.pop("ministry")
    project = app.register_project("MIC", details, PLANNER)
    written = 2
    while written < EVENTS:
        loaded = app.get_project(project.id)
        for _ in range(min(BATCH, EVENTS - written)):
            loaded.amend({"title": f"Drafting aid, revision {written}"}, PLANNER)
            written += 1
        app.save(loaded)  # the events only (the query index is not what this test is about)
    return app


def sigstore_verifies(index: int, size: int, leaf: bytes, hashes: list[bytes], root: bytes) -> bool:
    """sigstore-python's Rekor inclusion check, fed our proof the way a Rekor entry carries one."""
    proof = SimpleNamespace(log_index=index, tree_size=size, hashes=hashes, root_hash=root)
    try:
        verify_merkle_inclusion(SimpleNamespace(_inner=SimpleNamespace(inclusion_proof=proof, canonicalized_body=leaf)))
    except VerificationError:
        return False
    return True


@pytest.mark.slow
def test_proofs_of_a_ten_thousand_event_log_verify_independently(database_url: str) -> None:
    app = ten_thousand_events(database_url)
    records = list(app.iter_chained_records(batch_size=5000))
    assert len(records) == EVENTS
    leaves = [canonical_bytes(r.position, r.originator_id, r.originator_version, r.topic, r.state) for r in records]
    independent = InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        independent.append_entry(leaf)
    reader = TreeReader("registry", app.read_session)
    size, root = reader.head()
    assert size == EVENTS and root == independent.get_root(EVENTS)

    for leaf_index in range(0, EVENTS, 100):
        position = records[leaf_index].position
        proof = reader.inclusion(position, EVENTS)
        assert proof is not None and proof.leaf_index == leaf_index
        assert proof.leaf_hash == doc.h_leaf(leaves[leaf_index])
        assert sigstore_verifies(leaf_index, EVENTS, leaves[leaf_index], proof.hashes, root)
        assert doc.verify_inclusion(leaf_index, EVENTS, proof.leaf_hash, proof.hashes, root)
        merkle.verify_inclusion(leaf_index, EVENTS, proof.leaf_hash, proof.hashes, root)
    tampered = reader.inclusion(records[100].position, EVENTS)
    assert tampered is not None
    assert not sigstore_verifies(100, EVENTS, leaves[101], tampered.hashes, root), "the check can fail"
    assert not doc.verify_inclusion(100, EVENTS, doc.h_leaf(leaves[101]), tampered.hashes, root)

    rng = random.Random(15)
    for _ in range(50):
        old, new = sorted(rng.sample(range(1, EVENTS + 1), 2))
        hashes = reader.consistency(old, new)
        old_root, new_root = independent.get_root(old), independent.get_root(new)
        assert reader.root(old) == old_root and reader.root(new) == new_root
        assert doc.verify_consistency(old, new, old_root, new_root, hashes), (old, new)
        merkle.verify_consistency(old, new, old_root, new_root, hashes)
        assert not doc.verify_consistency(old, new, old_root, independent.get_root(new - 1), hashes)
