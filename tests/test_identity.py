"""Identity (issue 5): identity-provider tokens verified against a JWKS or a PEM key, development tokens
refused in production, and a 401 that says why.

The end-to-end half serves a JWKS document from a small stdlib HTTP server on a loopback port, whose keys
the tests swap, and runs the registry as a real process with ``AIGOV_ENV=production``. It runs on SQLite
only: identity never touches storage, so the PostgreSQL half of the ``backend`` fixture would prove nothing
more. The unit half drives ``TokenVerifier`` in-process against the same kind of JWKS server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from shared.auth import IdentityProviderUnavailable, Principal, TokenVerifier, decode_token, issue_dev_token
from shared.problems import Unauthorized
from shared.settings import Settings
from shared.transparency.publish import load_or_create_key
from tests.support import PROJECT_ROOT, ServiceStack, free_port, migrated, new_ministry_code

ISSUER = "https://idp.example.test/realms/aigov"
AUDIENCE = "aigov-api"


# -- an identity provider: key pairs, a JWKS endpoint, tokens --------------------------------------------


class KeyPair:
    """A signing key of the test identity provider, with the JWK it publishes."""

    def __init__(self, kid: str, algorithm: str = "RS256"):
        self.kid, self.algorithm = kid, algorithm
        if algorithm.startswith("ES"):
            self.private = ec.generate_private_key(ec.SECP256R1())
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk = {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}

    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def token(self, *, kid: str | None = "", headers: dict[str, Any] | None = None, **overrides: Any) -> str:
        """A token with the right claims for an auditor, unless ``overrides`` say otherwise (None drops a claim)."""
        now = int(time.time())
        claims = {
            "sub": "ada",
            "name": "Ada Auditor",
            "roles": ["auditor"],
            "ministry": None,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None or name == "ministry"}
        header = dict(headers or {})
        if kid is not None:
            header["kid"] = kid or self.kid
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers=header)


class JwksServer:
    """Serves ``/jwks.json`` from a thread on a free loopback port; ``publish`` swaps the keys; counts fetches."""

    def __init__(self, *keys: KeyPair):
        self.keys = list(keys)
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                outer.fetches += 1
                body = json.dumps({"keys": [key.jwk for key in outer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def publish(self, *keys: KeyPair) -> None:
        self.keys = list(keys)

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def rsa_key() -> KeyPair:
    return KeyPair("key-2026-01")


@pytest.fixture(scope="module")
def impostor_same_kid(rsa_key: KeyPair) -> KeyPair:
    """Another key pair that claims the published key's kid."""
    return KeyPair(rsa_key.kid)


@pytest.fixture(scope="module")
def impostor_other_kid() -> KeyPair:
    return KeyPair("key-not-published")


@pytest.fixture
def jwks(rsa_key: KeyPair) -> Iterator[JwksServer]:
    with JwksServer(rsa_key) as server:
        yield server


def idp_settings(tmp_path: Path, **overrides: Any) -> Settings:
    options: dict[str, Any] = {
        "env": "production",
        "var_dir": tmp_path,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "jwks_refresh_cooldown_seconds": 0,
    }
    options.update(overrides)
    return Settings(**options)


def refused(verifier: TokenVerifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    return caught.value


# -- unit tests of the verifier ---------------------------------------------------------------------------


def test_a_provider_token_maps_to_the_same_principal_as_a_development_token(
    tmp_path: Path, jwks: JwksServer, rsa_key: KeyPair
) -> None:
    verifier = TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url))
    token = rsa_key.token(sub="carla", name="Carla Planner", roles=["planner", "caio"], ministry="MIC")
    assert verifier.verify(token) == Principal("carla", "Carla Planner", frozenset({"planner", "caio"}), "MIC")
    development = Settings(var_dir=tmp_path)
    assert decode_token(
        development, issue_dev_token(development, "carla", "Carla Planner", ["planner", "caio"], "MIC")
    ) == verifier.verify(token)


def test_each_refusal_says_why(
    tmp_path: Path, jwks: JwksServer, rsa_key: KeyPair, impostor_same_kid: KeyPair, impostor_other_kid: KeyPair
) -> None:
    verifier = TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url))
    now = int(time.time())
    cases = {
        "expired": (rsa_key.token(exp=now - 120), "expired"),
        "bad-signature": (impostor_same_kid.token(), "signature"),
        "unknown-key": (impostor_other_kid.token(), "key-not-published"),
        "wrong-issuer": (rsa_key.token(iss="https://evil.example.test"), "issuer"),
        "wrong-audience": (rsa_key.token(aud="another-api"), "audience"),
        "missing-claim": (rsa_key.token(exp=None), "'exp'"),
        "malformed": ("not-a-jwt", "well-formed"),
        "invalid-claims": (rsa_key.token(roles=["king"]), "roles"),
    }
    for reason, (token, words) in cases.items():
        problem = refused(verifier, token)
        assert problem.extra["reason"] == reason, (reason, problem.detail)
        assert words in problem.detail, problem.detail
        assert problem.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert refused(verifier, rsa_key.token(kid=None)).extra["reason"] == "unknown-key"
    assert refused(verifier, rsa_key.token(aud=None)).extra["reason"] == "missing-claim"
    assert refused(verifier, rsa_key.token(iss=None)).extra["reason"] == "missing-claim"


def test_clock_skew_within_the_leeway_is_tolerated(tmp_path: Path, jwks: JwksServer, rsa_key: KeyPair) -> None:
    now = int(time.time())
    assert (
        TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url)).verify(rsa_key.token(exp=now - 10, nbf=now + 10)).sub
        == "ada"
    )
    strict = TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url, jwt_leeway_seconds=0))
    assert refused(strict, rsa_key.token(exp=now - 10)).extra["reason"] == "expired"
    assert refused(strict, rsa_key.token(nbf=now + 60)).extra["reason"] == "not-yet-valid"


def test_development_tokens_are_refused_in_production_and_accepted_in_development(
    tmp_path: Path, jwks: JwksServer, rsa_key: KeyPair
) -> None:
    development = Settings(var_dir=tmp_path, jwks_url=jwks.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    dev_token = issue_dev_token(development, "bob", "Bob", ["admin"], None)
    assert TokenVerifier(development).verify(dev_token).sub == "bob"
    assert TokenVerifier(development).verify(rsa_key.token()).sub == "ada"  # development accepts the provider too
    production = idp_settings(tmp_path, jwks_url=jwks.url)
    problem = refused(TokenVerifier(production), dev_token)
    assert problem.extra["reason"] == "development-token-refused" and "AIGOV_ENV=production" in problem.detail
    with pytest.raises(ValueError, match="refused when AIGOV_ENV=production"):
        issue_dev_token(production, "bob", "Bob", ["admin"], None)


def test_only_the_configured_asymmetric_algorithms_are_accepted(
    tmp_path: Path, jwks: JwksServer, rsa_key: KeyPair
) -> None:
    verifier = TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url, jwt_algorithms="ES256"))
    assert refused(verifier, rsa_key.token()).extra["reason"] == "algorithm-not-allowed"
    unsigned = jwt.encode(
        {"sub": "eve", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60},
        None,
        algorithm="none",
        headers={"kid": rsa_key.kid},
    )
    assert (
        refused(TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url)), unsigned).extra["reason"]
        == "algorithm-not-allowed"
    )
    with pytest.raises(ValidationError, match="AIGOV_JWT_ALGORITHMS"):
        idp_settings(tmp_path, jwks_url=jwks.url, jwt_algorithms="RS256,HS256")


def test_es256_keys_verify_through_the_jwks(tmp_path: Path, rsa_key: KeyPair) -> None:
    ec_key = KeyPair("ec-1", "ES256")
    with JwksServer(rsa_key, ec_key) as server:
        verifier = TokenVerifier(idp_settings(tmp_path, jwks_url=server.url))
        assert verifier.verify(ec_key.token(sub="eli")).sub == "eli"
        assert verifier.verify(rsa_key.token(sub="ria")).sub == "ria"
        # An RS256 token naming the EC key's kid is not verified with a key of another type.
        forged = jwt.encode(
            {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60},
            rsa_key.private,
            algorithm="RS256",
            headers={"kid": "ec-1"},
        )
        assert refused(verifier, forged).extra["reason"] == "algorithm-not-allowed"


def test_a_configured_pem_public_key_verifies_without_a_jwks(
    tmp_path: Path, rsa_key: KeyPair, impostor_same_kid: KeyPair
) -> None:
    escaped = rsa_key.public_pem().replace("\n", "\\n")  # as a one-line environment variable
    verifier = TokenVerifier(idp_settings(tmp_path, jwt_public_key=escaped))
    assert verifier.verify(rsa_key.token(kid=None)).sub == "ada"
    assert verifier.verify(rsa_key.token()).sub == "ada"  # a kid does not matter without a JWKS
    assert refused(verifier, impostor_same_kid.token()).extra["reason"] == "bad-signature"
    with pytest.raises(ValidationError, match="not a PEM public key"):
        idp_settings(tmp_path, jwt_public_key="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
    with pytest.raises(ValidationError, match="does not verify any of"):
        idp_settings(tmp_path, jwt_public_key=rsa_key.public_pem(), jwt_algorithms="ES256")


def test_production_settings_without_an_identity_provider_fail_naming_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="AIGOV_JWKS_URL or AIGOV_JWT_PUBLIC_KEY"):
        Settings(env="production", var_dir=tmp_path, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    with pytest.raises(ValidationError, match="AIGOV_JWT_ISSUER, AIGOV_JWT_AUDIENCE"):
        Settings(env="production", var_dir=tmp_path, jwks_url="https://idp.example.test/jwks")
    with pytest.raises(ValidationError, match="http"):
        Settings(var_dir=tmp_path, jwks_url="file:///etc/passwd")
    with pytest.raises(ValidationError):
        Settings(env="staging", var_dir=tmp_path)


def test_an_unknown_kid_refetches_the_jwks_so_a_rotated_key_verifies(
    tmp_path: Path, jwks: JwksServer, rsa_key: KeyPair
) -> None:
    verifier = TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url, jwks_cache_seconds=3600))
    assert verifier.verify(rsa_key.token()).sub == "ada"
    assert verifier.verify(rsa_key.token()).sub == "ada"
    assert jwks.fetches == 1  # cached
    rotated = KeyPair("key-2026-07")
    jwks.publish(rotated)
    assert verifier.verify(rotated.token()).sub == "ada"
    assert jwks.fetches == 2  # the unknown kid forced a refetch despite the hour-long cache
    assert refused(verifier, rsa_key.token()).extra["reason"] == "unknown-key"  # the withdrawn key no longer verifies


def test_unknown_kids_refetch_at_most_once_per_cooldown(
    tmp_path: Path, jwks: JwksServer, rsa_key: KeyPair, impostor_other_kid: KeyPair
) -> None:
    verifier = TokenVerifier(idp_settings(tmp_path, jwks_url=jwks.url, jwks_refresh_cooldown_seconds=60))
    verifier.verify(rsa_key.token())
    for _ in range(20):
        refused(verifier, impostor_other_kid.token())
    assert jwks.fetches == 1  # a flood of made-up kids does not become a flood of fetches


def test_an_unreachable_jwks_is_503_not_401(tmp_path: Path, rsa_key: KeyPair) -> None:
    verifier = TokenVerifier(idp_settings(tmp_path, jwks_url=f"http://127.0.0.1:{free_port()}/jwks.json"))
    with pytest.raises(IdentityProviderUnavailable) as caught:
        verifier.verify(rsa_key.token())
    assert caught.value.status == 503 and "cannot be fetched" in caught.value.detail


# -- end to end: the registry as a real process in production mode -----------------------------------------


@pytest.fixture(scope="module")
def idp(rsa_key: KeyPair) -> Iterator[JwksServer]:
    with JwksServer(rsa_key) as server:
        yield server


@pytest.fixture(scope="module")
def registry(idp: JwksServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    directory = tmp_path_factory.mktemp("identity")
    url = migrated(f"sqlite:///{directory / 'aigov.sqlite3'}")
    key = read_only_key(tmp_path_factory.mktemp("secrets") / "checkpoint-ed25519.pem")
    extra_env = {
        "AIGOV_ENV": "production",
        "AIGOV_CHECKPOINT_KEY_PATH": str(key),
        "AIGOV_JWKS_URL": idp.url,
        "AIGOV_JWT_ISSUER": ISSUER,
        "AIGOV_JWT_AUDIENCE": AUDIENCE,
        "AIGOV_JWKS_REFRESH_COOLDOWN_SECONDS": "0",
    }
    stack = ServiceStack(url, directory, extra_env=extra_env)
    try:
        stack.start("registry")
        yield stack
    finally:
        stack.stop_all()


def read_only_key(path: Path) -> Path:
    """A checkpoint key as production mounts it: a secret outside the data directory, read-only."""
    load_or_create_key(path)
    path.chmod(0o400)
    return path


def get_ministries(stack: ServiceStack, token: str | None) -> Any:
    with stack.client("registry", token) as client:
        return client.get("/v1/ministries")


def assert_refused(response: Any, reason: str, words: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:aigov:problem:unauthorized" and body["reason"] == reason, body
    assert words in body["detail"], body


def test_a_provider_token_is_accepted_and_acts_within_its_role(
    registry: ServiceStack, idp: JwksServer, rsa_key: KeyPair
) -> None:
    assert get_ministries(registry, rsa_key.token()).status_code == 200
    code = new_ministry_code()
    with registry.client("registry", rsa_key.token()) as auditor:
        forbidden = auditor.post("/v1/ministries", json={"code": code, "name": f"Ministry {code}"})
    assert forbidden.status_code == 403 and forbidden.json()["type"] == "urn:aigov:problem:forbidden"
    with registry.client("registry", rsa_key.token(sub="root", name="Root Admin", roles=["admin"])) as admin:
        assert admin.post("/v1/ministries", json={"code": code, "name": f"Ministry {code}"}).status_code == 201
    assert code in [ministry["code"] for ministry in get_ministries(registry, rsa_key.token()).json()["items"]]


def test_tokens_from_other_keys_are_refused(
    registry: ServiceStack, impostor_same_kid: KeyPair, impostor_other_kid: KeyPair
) -> None:
    assert_refused(get_ministries(registry, impostor_same_kid.token()), "bad-signature", "signature")
    assert_refused(get_ministries(registry, impostor_other_kid.token()), "unknown-key", "key-not-published")


def test_development_tokens_and_missing_tokens_are_refused_in_production(registry: ServiceStack) -> None:
    assert_refused(
        get_ministries(registry, registry.token("root", ["admin"])), "development-token-refused", "AIGOV_ENV=production"
    )
    assert_refused(get_ministries(registry, None), "missing", "Bearer")


def test_expired_wrong_issuer_and_wrong_audience_are_refused_saying_which(
    registry: ServiceStack, rsa_key: KeyPair
) -> None:
    assert_refused(get_ministries(registry, rsa_key.token(exp=int(time.time()) - 120)), "expired", "expired")
    assert_refused(get_ministries(registry, rsa_key.token(iss="https://evil.example.test")), "wrong-issuer", "issuer")
    assert_refused(get_ministries(registry, rsa_key.token(aud="another-api")), "wrong-audience", "audience")


def test_a_rotated_key_is_accepted_without_a_restart(registry: ServiceStack, idp: JwksServer, rsa_key: KeyPair) -> None:
    assert get_ministries(registry, rsa_key.token()).status_code == 200
    pid = registry.processes["registry"].pid
    rotated = KeyPair(f"key-{uuid.uuid4().hex[:6]}")
    idp.publish(rotated)
    try:
        assert get_ministries(registry, rotated.token()).status_code == 200
        assert_refused(
            get_ministries(registry, rsa_key.token()), "unknown-key", rsa_key.kid
        )  # withdrawn with the rotation
        assert registry.processes["registry"].pid == pid and registry.processes["registry"].poll() is None
    finally:
        idp.publish(rsa_key)


def test_production_without_an_identity_provider_does_not_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIGOV_ENV": "production",
        "AIGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'aigov.sqlite3'}",
        "AIGOV_VAR_DIR": str(tmp_path),
    }
    for name in ("AIGOV_JWKS_URL", "AIGOV_JWT_PUBLIC_KEY"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "aigov.cli", "serve", "registry", "--port", str(free_port())],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "AIGOV_JWKS_URL or AIGOV_JWT_PUBLIC_KEY" in result.stderr, result.stderr[-2000:]
