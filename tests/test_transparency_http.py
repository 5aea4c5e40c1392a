"""The transparency endpoints of the running services, open without a token, a witness fed by the services'
pushers within a second of a write, and readiness turning when the log stops extending what was cosigned."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from shared.transparency.note import Note, SignedCheckpoint, Verifier, raw_public_key
from shared.transparency.publish import KeyPlacementError, load_or_create_key, log_signer, require_key_apart_from_data
from tests import verifier_from_docs as doc
from tests.conftest import fresh_url
from tests.support import ServiceStack, migrated, new_ministry_code, running_stack, wait_for
from tests.transparency_support import RunningWitness, running_witness


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def witnessed_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServiceStack, RunningWitness]]:
    directory = tmp_path_factory.mktemp(f"witnessed-{request.param}")
    url = migrated(fresh_url(request.param, directory, request))
    settings = Settings(database_url=url, var_dir=directory)
    load_or_create_key(directory / "checkpoint-ed25519.pem")
    logs = [log_signer(settings, service).verifier.vkey() for service in ("registry", "risk")]
    with running_witness(f"sqlite:///{directory / 'witness.sqlite3'}", logs, directory) as witness:
        env = {"AIGOV_WITNESSES": f"{witness.url} {witness.vkey}"}
        with running_stack(url, directory, extra_env=env) as stack:
            yield stack, witness


def test_checkpoints_and_proofs_need_no_token_and_are_cosigned_within_a_second(witnessed_stack) -> None:
    stack, witness = witnessed_stack
    admin = stack.client("registry", stack.token("root", ["admin"]))
    for _ in range(3):
        code = new_ministry_code()
        assert admin.post("/v1/ministries", json={"code": code, "name": f"Ministry {code}"}).status_code == 201
    public = stack.client("registry")
    head = public.get("/v1/log", params={"limit": 1}).status_code
    assert head == 401, "the events themselves stay restricted"

    def cosigned() -> str | None:
        response = public.get("/v1/log/checkpoint")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        note = Note.parse(response.text)
        return response.text if note.signed_by(witness.service.signer.verifier) else None

    text = wait_for(cosigned, timeout=5)
    signed = SignedCheckpoint.parse(text)
    size, root = signed.checkpoint.size, signed.checkpoint.root
    assert size >= 3 and doc.verify_cosignature(
        text, witness.service.signer.name, raw_public_key(witness.service.signer.verifier.key)
    )
    proof = public.get("/v1/log/proof/inclusion", params={"position": 2, "tree_size": size})
    assert proof.status_code == 200, proof.text
    body = proof.json()
    assert doc.verify_inclusion(
        body["leaf_index"], size, bytes.fromhex(body["leaf_hash"]), [bytes.fromhex(h) for h in body["hashes"]], root
    )
    consistency = public.get("/v1/log/proof/consistency", params={"from": 1, "to": size})
    assert consistency.status_code == 200 and consistency.json()["from"] == 1
    first_root = base64.b64decode(
        witness.service.history(signed.checkpoint.origin)[0].split("\n")[2]
    )  # the witness's oldest cosigned root
    oldest_size = int(witness.service.history(signed.checkpoint.origin)[0].split("\n")[1])
    older = public.get("/v1/log/proof/consistency", params={"from": oldest_size, "to": size}).json()
    assert doc.verify_consistency(oldest_size, size, first_root, root, [bytes.fromhex(h) for h in older["hashes"]])


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/log/proof/inclusion", {"position": 1, "tree_size": 10**9}, "query.tree_size"),
        ("/v1/log/proof/inclusion", {"position": 0, "tree_size": 1}, "query.position"),
        ("/v1/log/proof/consistency", {"from": 2, "to": 1}, "query.from"),
        ("/v1/log/proof/consistency", {"from": 0, "to": 10**9}, "query.to"),
    ],
)
def test_bad_proof_requests_are_422_naming_the_field(witnessed_stack, path: str, params: dict, field: str) -> None:
    stack, _ = witnessed_stack
    response = stack.client("risk").get(path, params=params)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]], response.json()


def test_readiness_reports_the_transparency_log(witnessed_stack) -> None:
    stack, _ = witnessed_stack
    ready = httpx.get(stack.url("registry") + "/readyz").json()
    assert ready["checks"]["transparency:registry"] == "ok"
    metrics = httpx.get(stack.url("risk") + "/metrics").text
    assert 'aigov_transparency_consistent{log="risk"} 1.0' in metrics


def test_in_production_the_checkpoint_key_must_lie_apart_from_the_data(tmp_path: Path) -> None:
    production = {"env": "production", "jwt_public_key": None, "jwks_url": "https://idp.example/jwks"}
    settings = Settings(var_dir=tmp_path / "var", jwt_issuer="i", jwt_audience="a", **production)
    inside = tmp_path / "var" / "checkpoint.pem"
    load_or_create_key(inside)
    with pytest.raises(KeyPlacementError, match="inside AIGOV_VAR_DIR"):
        require_key_apart_from_data(inside, settings)
    outside = tmp_path / "secrets" / "checkpoint.pem"
    load_or_create_key(outside)
    with pytest.raises(KeyPlacementError, match="writable"):
        require_key_apart_from_data(outside, settings)
    require_key_apart_from_data(inside, Settings(var_dir=tmp_path / "var"))  # development: generated under var/
    assert Verifier.from_vkey(log_signer(Settings(var_dir=tmp_path / "var"), "registry").verifier.vkey())


def test_readiness_turns_and_the_metric_alarms_when_the_log_no_longer_extends_what_was_cosigned(
    witnessed_stack,
) -> None:
    """Last in this module: it tampers with the stack's registry log (the intruder deletes its last event)."""
    from tests.transparency_support import Intruder

    stack, witness = witnessed_stack
    admin = stack.client("registry", stack.token("root", ["admin"]))
    code = new_ministry_code()
    assert admin.post("/v1/ministries", json={"code": code, "name": f"Ministry {code}"}).status_code == 201
    public = stack.client("registry")
    wait_for(lambda: Note.parse(public.get("/v1/log/checkpoint").text).signed_by(witness.service.signer.verifier))
    last = int(SignedCheckpoint.parse(public.get("/v1/log/checkpoint").text).checkpoint.size)
    head = admin.get("/v1/log", params={"after": 0, "limit": 1000}).json()["items"][-1]["position"]
    assert last >= 1
    with Intruder(stack.database_url) as intruder:
        intruder.delete_from(head)

    def not_ready() -> dict | None:
        response = httpx.get(stack.url("registry") + "/readyz")
        return response.json() if response.status_code == 503 else None

    body = wait_for(not_ready, timeout=10)
    assert "truncated" in body["checks"]["transparency:registry"], body
    metrics = httpx.get(stack.url("registry") + "/metrics").text
    assert 'aigov_transparency_consistent{log="registry"} 0.0' in metrics
