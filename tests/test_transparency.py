"""The transparency log: RFC 9162 trees, C2SP checkpoints and witnesses, and tampering an intruder with the
database's rights cannot hide (acceptance 1, 2, 4 of issue 15), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from services.reporting.readmodel import ReportingStore
from shared.checkpoints import public_pem
from shared.database import create_engine
from shared.export import checkpoint_line
from shared.transparency import merkle
from shared.transparency.note import (
    Checkpoint,
    Note,
    NoteError,
    SignatureType,
    SignedCheckpoint,
    Signer,
    Verifier,
    raw_public_key,
)
from shared.transparency.publish import add_checkpoint_body
from shared.transparency.witness import Outcome, Status, WitnessService
from tests import verifier_from_docs as doc
from tests.support import PROJECT_ROOT
from tests.transparency_support import (
    Intruder,
    WitnessedLog,
    seed_witnessed,
    witness_signer_for_tests,
    witnessed_log,
)

# -- signed notes: the Go reference vector (golang.org/x/mod/sumdb/note) -----------------------------------------

GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_TEXT = b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_note_signatures_are_byte_for_byte_those_of_the_go_reference_implementation() -> None:
    signer = Signer("PeterNeumann", SignatureType.ED25519, Ed25519PrivateKey.from_private_bytes(GO_SEED))
    assert signer.verifier.vkey() == GO_VKEY
    assert signer.signature_line(GO_TEXT) == GO_LINE
    note = Note.parse(GO_TEXT.decode() + "\n" + GO_LINE)
    assert note.verify(Verifier.from_vkey(GO_VKEY)) is None
    tampered = Note.parse(GO_TEXT.decode().replace("answer", "Answer") + "\n" + GO_LINE)
    with pytest.raises(NoteError, match="does not verify"):
        tampered.verify(Verifier.from_vkey(GO_VKEY))


def test_a_cosignature_is_timestamped_and_verifies_with_the_independent_verifier() -> None:
    log = Signer("example.test/log", SignatureType.ED25519, Ed25519PrivateKey.generate())
    witness = witness_signer_for_tests()
    signed = SignedCheckpoint.sign(Checkpoint("example.test/log", 3, merkle.leaf_hash(b"x")), log)
    note = signed.note.with_signatures([witness.signature_line(signed.note.text, 1_700_000_000)])
    assert note.verify(witness.verifier) == 1_700_000_000
    raw_witness = raw_public_key(witness.verifier.key)
    raw_log = raw_public_key(log.verifier.key)
    assert doc.verify_cosignature(note.render(), witness.name, raw_witness) == 1_700_000_000
    assert doc.verify_log_signature(note.render(), log.name, raw_log)
    assert doc.verify_cosignature(note.render(), witness.name, raw_log) is None


# -- the witness's rules (acceptance 2) -------------------------------------------------------------------------


def _witness_and_log(database_url: str) -> tuple[WitnessService, Signer]:
    log = Signer("aigov.test/registry", SignatureType.ED25519, Ed25519PrivateKey.generate())
    return WitnessService(witness_signer_for_tests(), [log.verifier], database_url), log


def _submit(witness: WitnessService, log: Signer, old: int, leaves: list[bytes]) -> tuple[Outcome, Note]:
    """Submit the checkpoint of ``leaves`` signed by ``log``, with the consistency proof from size ``old``."""
    tree = merkle.MemoryTree([merkle.leaf_hash(leaf) for leaf in leaves])
    proof = merkle.consistency_proof(tree.node, old, tree.size) if old <= tree.size else []
    signed = SignedCheckpoint.sign(Checkpoint(log.name, tree.size, tree.root()), log)
    return witness.add_checkpoint(add_checkpoint_body(old, proof, signed.render())), signed.note


def test_the_witness_cosigns_a_checkpoint_that_extends_the_last_it_cosigned(database_url: str) -> None:
    witness, log = _witness_and_log(database_url)
    leaves = [f"event {n}".encode() for n in range(7)]
    first, note = _submit(witness, log, 0, leaves[:3])
    assert first.status == Status.OK
    assert note.with_signatures([first.body]).verify(witness.signer.verifier) is not None
    second, _ = _submit(witness, log, 3, leaves)
    assert second.status == Status.OK, second.reason
    assert witness.latest(log.name)[0] == 7


def test_the_witness_refuses_a_rewritten_history_a_truncated_one_and_a_fork(database_url: str) -> None:
    witness, log = _witness_and_log(database_url)
    leaves = [f"event {n}".encode() for n in range(7)]
    assert _submit(witness, log, 0, leaves[:5])[0].status == Status.OK

    rewritten = leaves[:2] + [b"forged"] + leaves[3:]
    refused = _submit(witness, log, 5, rewritten)[0]
    assert refused.status == Status.UNPROCESSABLE and "not consistent with the cosigned size 5" in refused.reason

    truncated = _submit(witness, log, 4, leaves[:4])[0]
    assert truncated.status == Status.CONFLICT and truncated.body == "5\n"
    assert truncated.media_type == "text/x.tlog.size"
    assert _submit(witness, log, 5, leaves[:4])[0].status == Status.BAD_REQUEST  # old size above the new one

    fork = _submit(witness, log, 5, leaves[:4] + [b"other fifth"])[0]
    assert fork.status == Status.CONFLICT and "fork" in fork.reason

    stranger = Signer("aigov.test/elsewhere", SignatureType.ED25519, Ed25519PrivateKey.generate())
    assert _submit(witness, stranger, 0, leaves)[0].status == Status.NOT_FOUND
    impostor = Signer(log.name, SignatureType.ED25519, Ed25519PrivateKey.generate())
    assert _submit(witness, impostor, 5, leaves)[0].status == Status.FORBIDDEN
    assert witness.latest(log.name)[0] == 5, "nothing refused was recorded"
    assert _submit(witness, log, 5, leaves)[0].status == Status.OK


# -- the stored tree ---------------------------------------------------------------------------------------------


def test_every_write_grows_the_stored_tree_in_its_transaction(database_url: str, tmp_path: Path) -> None:
    with witnessed_log(database_url, tmp_path) as log:
        positions = seed_witnessed(log)
        records = list(log.app.iter_chained_records())
        from shared.hashchain import canonical_bytes

        leaves = [
            doc.h_leaf(canonical_bytes(r.position, r.originator_id, r.originator_version, r.topic, r.state))
            for r in records
        ]
        size, root = log.publisher.reader.head()
        assert size == len(positions) == 7
        assert root == doc.mth(leaves)
        proof = log.publisher.reader.inclusion(positions[4], size)
        assert proof is not None and proof.leaf_hash == leaves[4]
        assert doc.verify_inclusion(proof.leaf_index, size, proof.leaf_hash, proof.hashes, root)
        checkpoint = log.publisher.latest()
        assert doc.checkpoint_fields(checkpoint) == (log.publisher.signer.name, 7, root)
        raw_witness = raw_public_key(log.witness.service.signer.verifier.key)
        assert doc.verify_cosignature(checkpoint, log.witness.service.signer.name, raw_witness) is not None


# -- tampering (acceptance 1) ------------------------------------------------------------------------------------


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "aigov.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={**os.environ, **env},
    )


def _delete_last(intruder: Intruder, positions: list[int]) -> int:
    intruder.delete_from(positions[-1])
    return positions[-1]


def _replace_last_three_by_two(intruder: Intruder, positions: list[int]) -> int:
    with intruder.engine.connect() as connection:
        originals = intruder.events(connection, after=positions[-4])
    intruder.delete_from(positions[-3])
    forged = [
        (row[0], row[1], row[2], row[3], bytes(row[4]).replace(b"procurement", b"development")) for row in originals[:2]
    ]
    intruder.forge(forged)
    return positions[-3]


def _edit_in_the_middle(intruder: Intruder, positions: list[int]) -> int:
    """Rewrite the first project's registration and re-chain and re-tree everything after it, by the rules."""
    with intruder.engine.connect() as connection:
        tail = intruder.events(connection, after=positions[0])
    intruder.delete_from(positions[1])
    first = tail[0]
    edited_state = bytes(first[4]).replace(b"Project 0", b"Project X")
    assert edited_state != bytes(first[4])
    intruder.forge([(first[0], first[1], first[2], first[3], edited_state)] + [(*r[:4], bytes(r[4])) for r in tail[1:]])
    return positions[1]


CASES = {
    "delete-last-event": _delete_last,
    "replace-last-three-by-two-forged": _replace_last_three_by_two,
    "edit-and-rechain": _edit_in_the_middle,
}
EXPECTED = {
    "delete-last-event": "truncated",
    "replace-last-three-by-two-forged": "rewritten",  # a witnessed size now covers a forged leaf
    "edit-and-rechain": "rewritten",
}


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_detected_against_the_witnessed_and_the_saved_checkpoint(
    case: str, database_url: str, tmp_path: Path
) -> None:
    with witnessed_log(database_url, tmp_path) as log:
        positions = seed_witnessed(log)
        saved = []
        for number, note in enumerate(log.saved):
            saved += ["--trusted-checkpoint", str(tmp_path / f"checkpoint-{number}.txt")]
            (tmp_path / f"checkpoint-{number}.txt").write_text(note, encoding="utf-8")
        with Intruder(database_url) as intruder:
            first_concerned = CASES[case](intruder, positions)
        assert log.app.verify_log().ok, "the hash chain alone does not see this (why the tree exists)"

        verified = _run("log", "verify", "--service", "registry", env=log.cli_env())
        assert verified.returncode == 1, verified.stdout + verified.stderr
        tree = json.loads(verified.stdout.splitlines()[0])["transparency"]
        assert tree["finding"] == EXPECTED[case] and tree["first_position"] == first_concerned, tree

        export = tmp_path / "export.ndjson"
        export.write_text("".join(line + "\n" for line in ReportingStore(log.settings).export_lines()), "utf-8")
        key = tmp_path / "log.pem"
        key.write_text(public_pem(log.publisher.signer.key.public_key()), encoding="utf-8")
        audited = _run("audit", "verify", str(export), "--public-key", str(key), *saved, env={})
        assert audited.returncode == 1, audited.stdout + audited.stderr
        result = json.loads(audited.stdout)["transparency"]
        assert result["finding"] == EXPECTED[case] and result["first_position"] == first_concerned, result


def test_a_position_reused_after_a_deletion_is_a_rewritten_history(database_url: str, tmp_path: Path) -> None:
    """SQLite hands a deleted last position to the next event; PostgreSQL skips it. Either way the tree differs."""
    with witnessed_log(database_url, tmp_path) as log:
        positions = seed_witnessed(log)
        with Intruder(database_url) as intruder:
            intruder.delete_from(positions[-1])
        log.app.establish_ministry("MOF", "Finance", log_admin())
        new_position = log.app.read_log(after=positions[-2], limit=1)[0].position
        verified = _run("log", "verify", "--service", "registry", env=log.cli_env())
        assert verified.returncode == 1
        tree = json.loads(verified.stdout.splitlines()[0])["transparency"]
        assert tree["finding"] == "rewritten" and tree["first_position"] == new_position, tree
        log.publisher.check_extends_last_cosigned()
        assert not log.publisher.state.consistent and "rewritten" in (log.publisher.state.problem or "")


def log_admin():  # noqa: ANN201 - the event metadata of an administrator
    from tests.transparency_support import ADMIN

    return ADMIN


def test_an_untouched_log_verifies_against_its_witness(database_url: str, tmp_path: Path) -> None:
    with witnessed_log(database_url, tmp_path) as log:
        seed_witnessed(log)
        verified = _run("log", "verify", "--service", "registry", env=log.cli_env())
        assert verified.returncode == 0, verified.stdout + verified.stderr
        tree = json.loads(verified.stdout.splitlines()[0])["transparency"]
        assert tree["extends_trusted_checkpoints"] and tree["trusted_checkpoints"] >= 7
        assert not tree["witness_problems"]


# -- the database refuses more (item 6) ------------------------------------------------------------------------


def test_the_database_refuses_truncate_and_replace(database_url: str, tmp_path: Path) -> None:
    with witnessed_log(database_url, tmp_path) as log:
        seed_witnessed(log)
    engine = create_engine(database_url)
    try:
        statements = (
            ["TRUNCATE registry_event_hashes", "TRUNCATE registry_events", "TRUNCATE registry_tree_nodes"]
            if engine.dialect.name == "postgresql"
            else [
                "INSERT OR REPLACE INTO registry_events (id, originator_id, originator_version, topic, state) "
                "SELECT id, originator_id, originator_version, topic, state FROM registry_events WHERE id = 3",
                "INSERT OR REPLACE INTO registry_event_hashes (position, hash) VALUES (3, 'x')",
                "REPLACE INTO registry_tree_leaves (leaf_index, position) VALUES (0, 1)",
            ]
        )
        for statement in statements:
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM registry_events")).scalar_one() == 7
            assert connection.execute(text("SELECT count(*) FROM registry_event_hashes")).scalar_one() == 7
    finally:
        engine.dispose()


# -- keys (acceptance 4) -----------------------------------------------------------------------------------------


def test_an_export_re_signed_with_another_key_fails_and_no_key_is_refused(database_url: str, tmp_path: Path) -> None:
    with witnessed_log(database_url, tmp_path) as log:
        seed_witnessed(log)
        lines = list(ReportingStore(log.settings).export_lines())
        key = tmp_path / "log.pem"
        key.write_text(public_pem(log.publisher.signer.key.public_key()), encoding="utf-8")
        genuine = tmp_path / "genuine.ndjson"
        genuine.write_text("".join(line + "\n" for line in lines), "utf-8")
        witness_key = ["--witness-key", log.witness.vkey]
        ok = _run("audit", "verify", str(genuine), "--public-key", str(key), *witness_key, env={})
        assert ok.returncode == 0, ok.stdout + ok.stderr

        other = Ed25519PrivateKey.generate()
        resigned = tmp_path / "resigned.ndjson"
        resigned.write_text("".join(_resigned(line, other) + "\n" for line in lines), "utf-8")
        with_key = _run("audit", "verify", str(resigned), "--public-key", str(key), env={})
        assert with_key.returncode == 1 and "does not verify" in with_key.stdout, with_key.stdout

        forged = tmp_path / "forged.ndjson"  # the last registry event dropped, everything re-signed to match
        forged.write_text("".join(line + "\n" for line in _forged_without_last_event(lines, other)), "utf-8")
        other_pem = tmp_path / "other.pem"
        other_pem.write_text(public_pem(other.public_key()), encoding="utf-8")
        forger_only = _run("audit", "verify", str(forged), "--public-key", str(other_pem), env={})
        assert forger_only.returncode == 0, "the forger's own key vouches for anything: why witnesses exist"
        with_witness = _run("audit", "verify", str(forged), "--public-key", str(other_pem), *witness_key, env={})
        assert with_witness.returncode == 1 and "witness" in with_witness.stdout, with_witness.stdout
        with_real = _run("audit", "verify", str(forged), "--public-key", str(key), env={})
        assert with_real.returncode == 1 and "does not verify" in with_real.stdout, with_real.stdout

        no_key = _run("audit", "verify", str(genuine), env={})
        assert no_key.returncode == 2 and "--public-key" in no_key.stderr
        hashes_only = _run("audit", "verify", str(genuine), "--no-signatures", env={})
        assert hashes_only.returncode == 0 and '"signatures_checked": false' in hashes_only.stdout


def _resigned(line: str, key: Ed25519PrivateKey) -> str:
    """The export line re-signed with ``key``: both checkpoint formats (a forger keeps the witness lines)."""
    from shared import checkpoints as json_checkpoints

    record = json.loads(line)
    if record["kind"] == "checkpoint":
        fields = {name: record[name] for name in ("service", "head_position", "head_hash", "taken_at")}
        return checkpoint_line(json_checkpoints.sign(key, **fields))
    if record["kind"] != "tree_checkpoint":
        return line
    note = Note.parse(record["note"])
    checkpoint = Checkpoint.from_text(note.text)
    signer = Signer(checkpoint.origin, SignatureType.ED25519, key)
    fresh = SignedCheckpoint.sign(checkpoint, signer).note
    record["note"] = fresh.with_signatures([sig.line for sig in note.signatures if sig.name != signer.name]).render()
    return json.dumps(record, ensure_ascii=False)


def _forged_without_last_event(lines: list[str], key: Ed25519PrivateKey) -> list[str]:
    """What a forger with the operator's database (not the witnesses) would publish: one event fewer, re-signed."""
    from shared.hashchain import canonical_bytes

    records = [json.loads(line) for line in lines]
    events = [r for r in records if r["kind"] == "event" and r["service"] == "registry"]
    kept = events[:-1]
    leaves = [
        doc.h_leaf(
            canonical_bytes(r["position"], r["originator_id"], r["originator_version"], r["topic"], r["state"].encode())
        )
        for r in kept
    ]
    out = []
    for record in records:
        if record is events[-1]:
            continue
        if record["kind"] == "checkpoint" and record["service"] == "registry":
            record = {**record, "head_position": kept[-1]["position"], "head_hash": kept[-1]["hash"]}
        if record["kind"] == "tree_checkpoint" and record["service"] == "registry":
            note = Note.parse(record["note"])
            origin = Checkpoint.from_text(note.text).origin
            shorter = note.with_signatures([])  # keep the witness's old cosignature: the forger cannot make one
            text = Checkpoint(origin, len(kept), doc.mth(leaves)).text()
            record = {**record, "note": Note(text, shorter.signatures).render()}
        out.append(_resigned(json.dumps(record, ensure_ascii=False), key))
    return out


def test_an_existing_log_gets_its_tree_by_backfill_rewriting_no_event(database_url: str, tmp_path: Path) -> None:
    """Migration 0004 on a log written before it: the same tree as if it had grown with the log, events untouched."""
    from alembic import command

    from shared.hashchain import canonical_bytes
    from shared.migrate import alembic_config, upgrade

    with witnessed_log(database_url, tmp_path) as log:
        seed_witnessed(log)
        grown = log.publisher.reader.head()
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            before = connection.execute(text("SELECT id, state FROM registry_events ORDER BY id")).all()
        command.downgrade(alembic_config(database_url), "0003")
        from sqlalchemy import inspect

        assert "registry_tree_nodes" not in inspect(engine).get_table_names()
        upgrade(database_url)
        with engine.connect() as connection:
            after = connection.execute(text("SELECT id, state FROM registry_events ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [(i, bytes(s)) for i, s in after] == [(i, bytes(s)) for i, s in before]
    from services.registry.application import RegistryApplication
    from shared.transparency.store import TreeReader

    app = RegistryApplication(database_url)
    reader = TreeReader("registry", app.read_session)
    assert reader.head() == grown
    leaves = [
        doc.h_leaf(canonical_bytes(r.position, r.originator_id, r.originator_version, r.topic, r.state))
        for r in app.iter_chained_records()
    ]
    assert grown[1] == doc.mth(leaves)


def halts_when_the_last_position_vanishes_then_is_reused(
    follower: Any, database_url: str, log: WitnessedLog, positions: list[int]
) -> None:
    """Delete the last event as an intruder would, then write another: the follower refuses both histories."""
    from shared.follower import UpstreamHistoryChanged
    from tests.transparency_support import ADMIN

    with Intruder(database_url) as intruder:
        intruder.delete_from(positions[-1])
    with pytest.raises(UpstreamHistoryChanged, match=f"no longer holds position {positions[-1]}"):
        follower.process_available()
    log.app.establish_ministry("MOF", "Finance", ADMIN)
    reused = log.app.read_log(after=positions[-2], limit=1)[0].position
    expected = "reappeared with another event" if reused == positions[-1] else "no longer holds"
    with pytest.raises(UpstreamHistoryChanged, match=expected):
        follower.process_available()
    assert follower.halted


def test_a_follower_stops_when_an_upstream_position_vanishes_or_reappears(database_url: str, tmp_path: Path) -> None:
    """Instead of skipping the event that reuses a deleted position (SQLite) or idling behind a truncated log."""
    from services.risk.application import RiskApplication
    from shared.follower import Follower

    with witnessed_log(database_url, tmp_path) as log:
        positions = seed_witnessed(log)
        handled: list[int] = []
        follower = Follower(
            log.app.log, RiskApplication(database_url).recorder, lambda _, entry: handled.append(entry.position)
        )
        assert follower.catch_up() == len(positions) and handled == positions
        halts_when_the_last_position_vanishes_then_is_reused(follower, database_url, log, positions)
        assert handled == positions, "nothing was skipped or handled twice"


def test_the_reporting_projection_stops_when_an_upstream_position_vanishes_or_reappears(
    database_url: str, tmp_path: Path
) -> None:
    """The projection checks continuity on the batch it reads (from the handled event on), not by a query of its
    own: the same verdicts as a service's follower, nothing projected past the change."""
    from services.reporting.followers import ProjectionFollower
    from shared.settings import Settings

    with witnessed_log(database_url, tmp_path) as log:
        positions = seed_witnessed(log)
        store = ReportingStore(Settings(database_url=database_url, var_dir=tmp_path / "var"))
        follower = ProjectionFollower(store, batch_size=2, trace_requests=False)
        follower.catch_up()
        assert store.positions()["registry"] == positions[-1] and follower.halted is None
        halts_when_the_last_position_vanishes_then_is_reused(follower, database_url, log, positions)
        assert store.positions()["registry"] == positions[-1], "nothing projected past it"


def test_audit_prove_prints_a_proof_a_third_party_checks_against_the_checkpoint(
    database_url: str, tmp_path: Path
) -> None:
    with witnessed_log(database_url, tmp_path) as log:
        positions = seed_witnessed(log)
        export = tmp_path / "export.ndjson"
        export.write_text("".join(line + "\n" for line in ReportingStore(log.settings).export_lines()), "utf-8")
    proved = _run("audit", "prove", str(export), "--service", "registry", "--position", str(positions[3]), env={})
    assert proved.returncode == 0, proved.stdout + proved.stderr
    proof = json.loads(proved.stdout)
    origin, size, root = doc.checkpoint_fields(proof["checkpoint"])
    assert origin.endswith("/registry") and size == proof["tree_size"] == len(positions)
    assert doc.verify_inclusion(
        proof["leaf_index"], size, bytes.fromhex(proof["leaf_hash"]), [bytes.fromhex(h) for h in proof["hashes"]], root
    )
    missing = _run("audit", "prove", str(export), "--service", "registry", "--position", "999", env={})
    assert missing.returncode == 1 and "no registry event at position 999" in missing.stdout


def test_in_production_the_checkpoint_key_must_be_a_read_only_secret_outside_the_data(tmp_path: Path) -> None:
    """Issue 15 item 7: a key beside the database, or one the service could rewrite, is refused at start."""
    from shared.settings import Settings
    from shared.transparency.publish import KeyPlacementError, load_or_create_key, require_key_apart_from_data

    data, secrets = tmp_path / "var", tmp_path / "secrets"
    production = Settings(
        env="production", var_dir=data, jwks_url="https://idp.test/jwks", jwt_issuer="i", jwt_audience="a"
    )
    inside = data / "checkpoint-ed25519.pem"
    load_or_create_key(inside)
    with pytest.raises(KeyPlacementError, match="inside AIGOV_VAR_DIR"):
        require_key_apart_from_data(inside, production)
    with pytest.raises(KeyPlacementError, match="does not exist"):
        require_key_apart_from_data(secrets / "missing.pem", production)
    outside = secrets / "checkpoint-ed25519.pem"
    load_or_create_key(outside)
    with pytest.raises(KeyPlacementError, match="writable"):
        require_key_apart_from_data(outside, production)
    outside.chmod(0o400)
    require_key_apart_from_data(outside, production)
    require_key_apart_from_data(inside, Settings(var_dir=data))  # development: a generated key under var/ is fine
