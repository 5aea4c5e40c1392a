"""docs/verifying.md's test vectors hold: the code and the verifier written from the document agree with them."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.hashchain import GENESIS_HASH, canonical_bytes, link
from shared.transparency import merkle
from shared.transparency.note import Checkpoint, Note, SignatureType, SignedCheckpoint, Signer, Verifier, raw_public_key
from tests import verifier_from_docs as doc

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "verifying.md"


def vectors() -> dict:
    text = DOCUMENT.read_text(encoding="utf-8")
    block = text.split("<!-- test-vectors -->", 1)[1].split("<!-- /test-vectors -->", 1)[0]
    return json.loads(block.strip().removeprefix("```json").removesuffix("```"))


def leaves_of(lines: list[dict]) -> list[bytes]:
    return [
        canonical_bytes(r["position"], r["originator_id"], r["originator_version"], r["topic"], r["state"].encode())
        for r in lines
    ]


def test_leaves_chain_and_roots_match_the_code_and_the_document() -> None:
    v = vectors()
    leaves = leaves_of(v["export_lines"])
    previous = GENESIS_HASH
    for line, leaf in zip(v["export_lines"], leaves, strict=True):
        previous = link(previous, leaf)
        assert line["hash"] == previous
        assert leaf == doc.leaf_bytes(
            line["position"], line["originator_id"], line["originator_version"], line["topic"], line["state"]
        )
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    assert [h.hex() for h in hashes] == v["leaf_hashes"]
    tree = merkle.MemoryTree(hashes)
    for size, root in v["roots"].items():
        assert tree.root(int(size)).hex() == root == doc.mth(hashes[: int(size)]).hex()


def test_the_proofs_match_and_verify_with_the_document_alone() -> None:
    v = vectors()
    tree = merkle.MemoryTree([merkle.leaf_hash(leaf) for leaf in leaves_of(v["export_lines"])])
    inclusion, consistency, roots = v["inclusion"], v["consistency"], v["roots"]
    assert [h.hex() for h in merkle.inclusion_proof(tree.node, inclusion["leaf_index"], inclusion["tree_size"])] == (
        inclusion["hashes"]
    )
    assert doc.verify_inclusion(
        inclusion["leaf_index"],
        inclusion["tree_size"],
        bytes.fromhex(inclusion["leaf_hash"]),
        [bytes.fromhex(h) for h in inclusion["hashes"]],
        bytes.fromhex(roots[str(inclusion["tree_size"])]),
    )
    old, new = consistency["from"], consistency["to"]
    assert [h.hex() for h in merkle.consistency_proof(tree.node, old, new)] == consistency["hashes"]
    assert doc.verify_consistency(
        old,
        new,
        bytes.fromhex(roots[str(old)]),
        bytes.fromhex(roots[str(new)]),
        [bytes.fromhex(h) for h in consistency["hashes"]],
    )


def test_the_checkpoint_and_its_cosignature_are_reproduced_byte_for_byte() -> None:
    v = vectors()
    log = Signer(
        "aigov.example/registry",
        SignatureType.ED25519,
        Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["log_key"]["seed_hex"])),
    )
    witness = Signer(
        "witness.example/w1",
        SignatureType.COSIGNATURE_V1,
        Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["witness_key"]["seed_hex"])),
    )
    assert log.verifier.vkey() == v["log_key"]["vkey"] and witness.verifier.vkey() == v["witness_key"]["vkey"]
    signed = SignedCheckpoint.sign(Checkpoint(log.name, 5, bytes.fromhex(v["roots"]["5"])), log)
    note = signed.note.with_signatures([witness.signature_line(signed.note.text, v["witness_key"]["timestamp"])])
    assert note.render() == v["checkpoint"]
    parsed = Note.parse(v["checkpoint"])
    assert parsed.verify(Verifier.from_vkey(v["witness_key"]["vkey"])) == v["witness_key"]["timestamp"]
    assert doc.verify_log_signature(v["checkpoint"], log.name, raw_public_key(log.key.public_key()))
    assert (
        doc.verify_cosignature(v["checkpoint"], witness.name, raw_public_key(witness.key.public_key()))
        == (v["witness_key"]["timestamp"])
    )
    assert doc.checkpoint_fields(v["checkpoint"]) == (log.name, 5, bytes.fromhex(v["roots"]["5"]))
