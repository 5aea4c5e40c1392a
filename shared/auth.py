"""Identity: bearer JWTs with ``sub``, ``name``, ``roles`` and ``ministry`` claims.

The embedded default signs HS256 development tokens with a key generated once under ``var/``. An identity
provider's tokens (RS256/ES256 by default) verify against its JWKS (``AIGOV_JWKS_URL``, refetched when a token
names an unknown ``kid``, so keys rotate without a restart) or a configured PEM public key, with issuer,
audience, expiry and clock-skew leeway. ``AIGOV_ENV=production`` refuses development tokens; the settings
refuse to load in production without an identity provider. 401 says why a token failed (``reason``);
403 stays for acting outside one's role or ministry.
"""

from __future__ import annotations

import inspect
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Request

from shared.i18n import N_, Msg
from shared.keys import public_key_algorithms
from shared.meta import Actor
from shared.problems import Forbidden, Problem, Unauthorized
from shared.settings import Settings, get_settings

Role = Literal["planner", "caio", "board_member", "secretariat", "auditor", "admin"]
ROLES: tuple[str, ...] = ("planner", "caio", "board_member", "secretariat", "auditor", "admin")
MINISTRY_SCOPED_ROLES = frozenset({"planner", "caio"})
DEV_ISSUER = "aigov-dev"
DEV_TOKEN_TTL_SECONDS = 12 * 3600


def signing_key(settings: Settings) -> str:
    """The HS256 key: ``AIGOV_JWT_SECRET`` or ``var/jwt-secret``, created on first use (mode 0600)."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = Path(settings.var_dir) / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True)
class Principal:
    """A verified identity and everything it claims."""

    sub: str
    name: str
    roles: frozenset[str]
    ministry: str | None

    def act_as(self, *roles: str, ministry: str | None = None) -> Actor:
        """The actor this principal becomes in the first of ``roles`` it holds, within ``ministry``.

        Raises 403 when it holds none of them, or holds them only for another ministry.
        """
        held = [role for role in roles if role in self.roles]
        if not held:
            raise Forbidden(
                Msg(
                    "This action needs the role {roles}; the token has {held}.",
                    roles=" or ".join(roles),
                    held=", ".join(sorted(self.roles)) or "none",
                )
            )
        role = held[0]
        if role in MINISTRY_SCOPED_ROLES and ministry is not None and self.ministry != ministry:
            raise Forbidden(
                Msg(
                    "A {role} of {own} cannot act for ministry {ministry}.",
                    role=role,
                    own=self.ministry or "no ministry",
                    ministry=ministry,
                )
            )
        return Actor(self.sub, self.name, role, self.ministry if role in MINISTRY_SCOPED_ROLES else ministry)


def issue_dev_token(
    settings: Settings, sub: str, name: str, roles: list[str], ministry: str | None, ttl: int = DEV_TOKEN_TTL_SECONDS
) -> str:
    """A development token for the embedded default (refused when ``AIGOV_ENV=production``)."""
    if settings.env == "production":
        raise ValueError(
            "development tokens are refused when AIGOV_ENV=production; get a token from the identity provider"
        )
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}; choose from {', '.join(ROLES)}")
    now = int(time.time())
    claims = {
        "sub": sub,
        "name": name,
        "roles": roles,
        "ministry": ministry,
        "iss": DEV_ISSUER,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, signing_key(settings), algorithm="HS256")


class IdentityProviderUnavailable(Problem):
    """The identity provider's JWKS cannot be fetched or read: not the caller's fault, so 503, not 401."""

    status, slug, title = 503, "identity-provider-unavailable", N_("Identity provider unavailable")


def invalid_token(reason: str, detail: str) -> Unauthorized:
    """401 with a machine-readable ``reason`` and the RFC 6750 challenge."""
    return Unauthorized(
        detail,
        reason=reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


def _jwks_client(settings: Settings, url: str) -> jwt.PyJWKClient:
    """A JWKS client that caches the key set for ``jwks_cache_seconds`` and refetches it when a token names an
    unknown ``kid`` (at most once per ``jwks_refresh_cooldown_seconds``, where PyJWT supports a cooldown)."""
    options: dict[str, object] = {
        "cache_jwk_set": True,
        "lifespan": settings.jwks_cache_seconds,
        "cache_keys": False,  # a per-kid cache never expires: a key withdrawn from the JWKS must stop verifying
        "timeout": settings.jwks_timeout_seconds,
        "headers": {"User-Agent": "aigov", "Accept": "application/json"},
    }
    if "cooldown_duration" in inspect.signature(jwt.PyJWKClient.__init__).parameters:
        options["cooldown_duration"] = settings.jwks_refresh_cooldown_seconds
    return jwt.PyJWKClient(url, **options)  # type: ignore[arg-type]


class TokenVerifier:
    """Verifies bearer tokens for one configuration, holding the JWKS cache between requests.

    HS256 tokens are the embedded development tokens (refused when ``AIGOV_ENV=production``); any other
    algorithm must be one of ``AIGOV_JWT_ALGORITHMS`` and verify against the identity provider's JWKS or
    configured public key, with its issuer, audience and expiry."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.production = settings.env == "production"
        self.algorithms = settings.jwt_algorithm_list
        self.jwks = _jwks_client(settings, settings.jwks_url) if settings.jwks_url else None
        self.public_key: str | None = settings.jwt_public_key_pem
        self.public_key_algorithms = public_key_algorithms(self.public_key, self.algorithms) if self.public_key else []

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise invalid_token("malformed", f"The bearer token is not a well-formed JWT: {error}.") from error
        algorithm = header.get("alg")
        if algorithm == "HS256":
            if self.production:
                raise invalid_token(
                    "development-token-refused",
                    (
                        "Development (HS256) tokens are refused when AIGOV_ENV=production; present a token from "
                        "the identity provider."
                    ),
                )
            return principal_from_claims(
                self._decode(
                    token,
                    signing_key(self.settings),
                    ["HS256"],
                    issuer=DEV_ISSUER,
                    audience=None,
                    require=["sub", "exp"],
                    leeway=0,
                )
            )
        if self.jwks is None and self.public_key is None:
            raise invalid_token(
                "algorithm-not-allowed",
                (
                    "This deployment has no identity provider configured and accepts only development (HS256) "
                    f"tokens, not {algorithm!r}."
                ),
            )
        if algorithm not in self.algorithms:
            raise invalid_token(
                "algorithm-not-allowed",
                f"The bearer token is signed with {algorithm!r}; this deployment accepts {', '.join(self.algorithms)}.",
            )
        key, algorithms = self._key_for(header)
        require = (
            ["sub", "exp"]
            + (["iss"] if self.settings.jwt_issuer else [])
            + (["aud"] if self.settings.jwt_audience else [])
        )
        return principal_from_claims(
            self._decode(
                token,
                key,
                algorithms,
                issuer=self.settings.jwt_issuer,
                audience=self.settings.jwt_audience,
                require=require,
                leeway=self.settings.jwt_leeway_seconds,
            )
        )

    def _key_for(self, header: dict[str, object]) -> tuple[object, list[str]]:
        kid = header.get("kid")
        if self.jwks is not None and (kid is not None or self.public_key is None):
            if not isinstance(kid, str) or not kid:
                raise invalid_token(
                    "unknown-key",
                    (
                        "The bearer token names no key id (`kid` header), so no key of the identity provider's "
                        "JWKS can verify it."
                    ),
                )
            try:
                return self.jwks.get_signing_key(kid), self.algorithms
            except jwt.PyJWKClientConnectionError as error:
                raise IdentityProviderUnavailable(
                    Msg("The identity provider's JWKS cannot be fetched: {error}", error=str(error)),
                    headers={"Retry-After": "5"},
                ) from error
            except jwt.PyJWKClientError as error:
                if "Unable to find a signing key" in str(error):
                    raise invalid_token(
                        "unknown-key",
                        (
                            f"The bearer token is signed with key id {kid!r}, which the identity provider's JWKS does "
                            "not publish."
                        ),
                    ) from error
                raise IdentityProviderUnavailable(
                    Msg("The identity provider's JWKS is unusable: {error}", error=str(error)),
                    headers={"Retry-After": "5"},
                ) from error
            except (jwt.PyJWKSetError, jwt.PyJWKError) as error:
                raise IdentityProviderUnavailable(
                    Msg("The identity provider's JWKS is unusable: {error}", error=str(error)),
                    headers={"Retry-After": "5"},
                ) from error
        return self.public_key, self.public_key_algorithms

    def _decode(
        self,
        token: str,
        key: object,
        algorithms: list[str],
        *,
        issuer: str | None,
        audience: str | None,
        require: list[str],
        leeway: float,
    ) -> dict[str, object]:
        """Development tokens are minted on this host, so they get no clock-skew leeway."""
        try:
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=issuer,
                audience=audience,
                leeway=leeway,
                options={"require": require},  # type: ignore[arg-type]
            )
        except jwt.ExpiredSignatureError as error:
            raise invalid_token("expired", "The bearer token has expired.") from error
        except jwt.ImmatureSignatureError as error:
            raise invalid_token("not-yet-valid", f"The bearer token is not valid yet: {error}.") from error
        except jwt.InvalidSignatureError as error:
            raise invalid_token(
                "bad-signature",
                "The bearer token's signature does not verify against the key it names (bad signature).",
            ) from error
        except jwt.InvalidIssuerError as error:
            raise invalid_token(
                "wrong-issuer",
                f"The bearer token's issuer {_unverified(token, 'iss')!r} is not the expected issuer {issuer!r}.",
            ) from error
        except jwt.InvalidAudienceError as error:
            raise invalid_token(
                "wrong-audience",
                (
                    f"The bearer token's audience {_unverified(token, 'aud')!r} does not include the expected "
                    f"audience {audience!r}."
                ),
            ) from error
        except jwt.MissingRequiredClaimError as error:
            raise invalid_token(
                "missing-claim", f"The bearer token lacks the required {error.claim!r} claim."
            ) from error
        except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError) as error:
            raise invalid_token(
                "algorithm-not-allowed", f"The bearer token's algorithm is not accepted for its key: {error}."
            ) from error
        except jwt.DecodeError as error:
            raise invalid_token("malformed", f"The bearer token is not a well-formed JWT: {error}.") from error
        except jwt.PyJWTError as error:
            raise invalid_token("invalid", f"The bearer token is not valid: {error}.") from error


def _unverified(token: str, claim: str) -> object:
    """A claim of a token whose signature has already verified (PyJWT checks claims after the signature)."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get(claim)
    except jwt.PyJWTError:
        return None


def principal_from_claims(claims: dict[str, object]) -> Principal:
    """The same mapping for development and identity-provider tokens: ``sub``, ``name``, ``roles``, ``ministry``."""
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(role, str) and role in ROLES for role in roles):
        raise invalid_token("invalid-claims", "The token's roles claim must be a list of known roles.")
    ministry = claims.get("ministry")
    if ministry is not None and not isinstance(ministry, str):
        raise invalid_token("invalid-claims", "The token's ministry claim must be a string.")
    sub, name = claims["sub"], claims.get("name") or claims["sub"]
    return Principal(identity_text(sub, "sub"), identity_text(name, "name"), frozenset(roles), ministry)


MAX_SUB_LENGTH = 255


def identity_text(value: object, claim: str) -> str:
    """A ``sub`` or ``name`` every event can carry: a non-blank string of at most 255 characters without control
    characters. An empty ``sub`` would record an event by nobody; a NUL is refused by PostgreSQL but kept by SQLite."""
    if not isinstance(value, str) or not value.strip():
        raise invalid_token("invalid-claims", f"The token's {claim!r} claim must be a non-blank string.")
    if len(value) > MAX_SUB_LENGTH or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise invalid_token(
            "invalid-claims",
            f"The token's {claim!r} claim must be at most {MAX_SUB_LENGTH} characters, without control characters.",
        )
    return value


def decode_token(settings: Settings, token: str) -> Principal:
    """Verify ``token`` under ``settings`` (a fresh verifier: services keep one per app, see ``current_principal``)."""
    return TokenVerifier(settings).verify(token)


_verifier_lock = threading.Lock()


def token_verifier(request: Request) -> TokenVerifier:
    """The app's verifier, built on first use so its JWKS cache lives as long as the app."""
    state = request.app.state
    verifier = getattr(state, "token_verifier", None)
    if verifier is None:
        with _verifier_lock:
            verifier = getattr(state, "token_verifier", None)
            if verifier is None:
                settings: Settings = getattr(state, "settings", None) or get_settings()
                verifier = state.token_verifier = TokenVerifier(settings)
    return verifier


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller, or 401 problem+json (verified once per request, however often asked)."""
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            N_("No bearer token: send 'Authorization: Bearer <JWT>'; `aigov token` prints one for development."),
            reason="missing",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = request.state.principal = token_verifier(request).verify(token.strip())
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
