"""Identity: bearer JWTs with ``sub``, ``name``, ``roles`` and ``ministry`` claims.

The embedded default signs HS256 development tokens with a key generated once under ``var/``; the
production identity provider (RS256/ES256 via JWKS) is wired in by the security issue.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Request

from shared.meta import Actor
from shared.problems import Forbidden, Unauthorized
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
            raise Forbidden(f"This action needs the role {' or '.join(roles)}; the token has {', '.join(sorted(self.roles)) or 'none'}.")
        role = held[0]
        if role in MINISTRY_SCOPED_ROLES and ministry is not None and self.ministry != ministry:
            raise Forbidden(f"A {role} of {self.ministry or 'no ministry'} cannot act for ministry {ministry}.")
        return Actor(self.sub, self.name, role, self.ministry if role in MINISTRY_SCOPED_ROLES else ministry)


def issue_dev_token(settings: Settings, sub: str, name: str, roles: list[str], ministry: str | None, ttl: int = DEV_TOKEN_TTL_SECONDS) -> str:
    """A development token for the embedded default (refused in production by the security issue)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}; choose from {', '.join(ROLES)}")
    now = int(time.time())
    claims = {"sub": sub, "name": name, "roles": roles, "ministry": ministry, "iss": DEV_ISSUER, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, signing_key(settings), algorithm="HS256")


def decode_token(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(token, signing_key(settings), algorithms=["HS256"], issuer=DEV_ISSUER, options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError as error:
        raise Unauthorized("The bearer token has expired.") from error
    except jwt.InvalidTokenError as error:
        raise Unauthorized(f"The bearer token is not valid: {error}.") from error
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(role, str) and role in ROLES for role in roles):
        raise Unauthorized("The token's roles claim must be a list of known roles.")
    ministry = claims.get("ministry")
    if ministry is not None and not isinstance(ministry, str):
        raise Unauthorized("The token's ministry claim must be a string.")
    return Principal(str(claims["sub"]), str(claims.get("name") or claims["sub"]), frozenset(roles), ministry)


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller, or 401 problem+json."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <JWT>'; `aigov token` prints one for development.", headers={"WWW-Authenticate": "Bearer"})
    settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
    return decode_token(settings, token.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
