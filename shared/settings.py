"""Settings read from the environment (prefix ``AIGOV_``), so each service is configured the same way."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.keys import public_key_algorithms

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
"""What ``AIGOV_JWT_ALGORITHMS`` may name: the identity provider signs with a private key we never hold."""


class Settings(BaseSettings):
    """Every knob a deployment can turn; the README lists them with their defaults."""

    model_config = SettingsConfigDict(env_prefix="AIGOV_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/aigov.sqlite3",
        description="Where the event logs, tracking records and read models live (SQLite or PostgreSQL); "
        "unset, `aigov.sqlite3` in AIGOV_VAR_DIR.",
    )
    registry_database_url: str | None = Field(
        default=None, description="Database of the registry log, when followers read it elsewhere."
    )
    risk_database_url: str | None = Field(
        default=None, description="Database of the risk log, when followers read it elsewhere."
    )
    registry_log_url: str | None = Field(
        default=None,
        description="Base URL of a registry run elsewhere: followers read its log over HTTP (GET /v1/log) instead.",
    )
    risk_log_url: str | None = Field(
        default=None,
        description="Base URL of a risk service run elsewhere: followers read its log over HTTP instead.",
    )
    log_reader_token: str | None = Field(
        default=None, description="Bearer token (an oversight role) followers present to an upstream's HTTP log API."
    )
    group_commit: bool = Field(
        default=True,
        description="Record the saves of concurrent commands together, one transaction and one commit for all "
        "(each still checked and answered on its own); false: one transaction per command.",
    )
    var_dir: Path = Field(default=Path("var"), description="Directory for generated keys and the embedded database.")
    env: Literal["development", "production"] = Field(
        default="development",
        description=(
            "`production` refuses HS256 development tokens and needs AIGOV_JWKS_URL or "
            "AIGOV_JWT_PUBLIC_KEY, AIGOV_JWT_ISSUER and AIGOV_JWT_AUDIENCE."
        ),
    )
    jwks_url: str | None = Field(
        default=None,
        description="JWKS document (http/https) of the identity provider whose RS256/ES256 tokens are accepted.",
    )
    jwt_public_key: str | None = Field(
        default=None,
        description=(
            "PEM public key that verifies identity-provider tokens, instead of (or besides) a JWKS "
            "URL; `\\n` escapes allowed."
        ),
    )
    jwt_algorithms: str = Field(
        default="RS256,ES256", description="Comma-separated asymmetric algorithms accepted from the identity provider."
    )
    jwt_issuer: str | None = Field(
        default=None, description="Required `iss` of identity-provider tokens (mandatory in production)."
    )
    jwt_audience: str | None = Field(
        default=None, description="Required `aud` of identity-provider tokens (mandatory in production)."
    )
    jwt_leeway_seconds: float = Field(
        default=30.0, ge=0, description="Clock skew tolerated when checking `exp`, `nbf` and `iat`."
    )
    jwks_cache_seconds: float = Field(
        default=300.0, gt=0, description="How long a fetched JWKS is trusted before it is fetched again."
    )
    jwks_refresh_cooldown_seconds: float = Field(
        default=10.0,
        ge=0,
        description=(
            "Least time between the forced JWKS refetches an unknown `kid` triggers (bounds load on the provider)."
        ),
    )
    jwks_timeout_seconds: float = Field(default=5.0, gt=0, description="Timeout of one JWKS fetch.")
    jwt_secret: str | None = Field(
        default=None, description="HS256 key for development tokens; generated under var/ when unset."
    )
    checkpoint_key_path: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) that signs checkpoints; generated under var/ when unset."
    )
    checkpoint_interval: float = Field(
        default=300.0, description="Seconds between periodic checkpoints taken by the reporting service (0: never)."
    )
    tlog_origin_prefix: str = Field(
        default="aigov.localhost",
        description="Start of each log's checkpoint origin and key name (`<prefix>/registry`, `<prefix>/risk`).",
    )
    witnesses: str | None = Field(
        default=None,
        description="Witnesses the services push checkpoints to: comma-separated `URL VKEY` pairs (C2SP tlog-witness).",
    )
    follower_poll_interval: float = Field(
        default=0.05, description="Seconds a follower waits before polling its upstream log again."
    )
    follower_batch_size: int = Field(default=200, description="Notifications a follower reads per batch.")
    ready_max_lag: int = Field(
        default=10_000, description="/readyz reports not ready while a follower is more than this many events behind."
    )
    max_body_bytes: int = Field(default=1_048_576, description="Largest request body accepted (413 beyond).")
    max_header_bytes: int = Field(
        default=32_768, ge=1024, description="Largest total size of a request's headers (431 problem+json beyond)."
    )
    max_url_length: int = Field(default=2048, ge=64, description="Longest request target accepted (414 beyond).")
    consistency_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "How long a request waits for this service's followers to reach the positions of `Aigov-After` or, "
            "for a command resting on another service's facts, the upstream heads; 503 follower-behind beyond."
        ),
    )
    log_level: str = Field(default="INFO", description="Level of the JSON logs.")
    run_followers: bool = Field(default=True, description="Whether this process runs its service's followers.")
    host: str = Field(default="127.0.0.1", description="Interface `aigov run` binds the services to.")
    registry_port: int = 8001
    risk_port: int = 8002
    reporting_port: int = 8003
    witness_port: int = 8009

    @property
    def jwt_algorithm_list(self) -> list[str]:
        return [name.strip() for name in self.jwt_algorithms.split(",") if name.strip()]

    @property
    def jwt_public_key_pem(self) -> str | None:
        return self.jwt_public_key.replace("\\n", "\n").strip() if self.jwt_public_key else None

    @model_validator(mode="after")
    def _identity_is_configured(self) -> Settings:
        """Fail at start, naming the setting, rather than refuse every request later."""
        algorithms = self.jwt_algorithm_list
        refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(
                f"AIGOV_JWT_ALGORITHMS must name some of {', '.join(ASYMMETRIC_ALGORITHMS)}; refused: "
                f"{', '.join(refused) or 'empty list'}"
            )
        if self.jwks_url and urlparse(self.jwks_url).scheme not in ("http", "https"):
            raise ValueError(f"AIGOV_JWKS_URL must be an http(s) URL, not {self.jwks_url!r}")
        if self.jwt_public_key_pem and not public_key_algorithms(self.jwt_public_key_pem, algorithms):
            raise ValueError(
                f"AIGOV_JWT_PUBLIC_KEY does not verify any of AIGOV_JWT_ALGORITHMS ({', '.join(algorithms)})"
            )
        if self.env == "production":
            missing = []
            if not (self.jwks_url or self.jwt_public_key):
                missing.append("AIGOV_JWKS_URL or AIGOV_JWT_PUBLIC_KEY")
            missing += [
                name
                for name, value in (("AIGOV_JWT_ISSUER", self.jwt_issuer), ("AIGOV_JWT_AUDIENCE", self.jwt_audience))
                if not value
            ]
            if missing:
                raise ValueError(
                    "AIGOV_ENV=production refuses development tokens, so it needs an identity provider: set "
                    f"{', '.join(missing)}"
                )
        return self

    @model_validator(mode="after")
    def _embedded_database_under_var_dir(self) -> Settings:
        """Without AIGOV_DATABASE_URL the embedded SQLite database lives in AIGOV_VAR_DIR, beside the keys."""
        if "database_url" not in self.model_fields_set:
            self.database_url = f"sqlite:///{self.var_dir / 'aigov.sqlite3'}"
        return self

    def upstream_log_url(self, service: str) -> str | None:
        """The base URL of ``service`` when its log is read over HTTP (another organisation runs it), else None."""
        return {"registry": self.registry_log_url, "risk": self.risk_log_url}.get(service)

    def upstream_url(self, service: str) -> str:
        """The database holding ``service``'s log: its own setting, or the shared database."""
        specific = {"registry": self.registry_database_url, "risk": self.risk_database_url}.get(service)
        return specific or self.database_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process; tests construct ``Settings`` explicitly instead."""
    return Settings()
