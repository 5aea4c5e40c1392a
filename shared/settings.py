"""Settings read from the environment (prefix ``AIGOV_``), so each service is configured the same way."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob a deployment can turn; the README lists them with their defaults."""

    model_config = SettingsConfigDict(env_prefix="AIGOV_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/aigov.sqlite3",
        description="Where the event logs, tracking records and read models live (SQLite or PostgreSQL).",
    )
    registry_database_url: str | None = Field(
        default=None, description="Database of the registry log, when followers read it elsewhere."
    )
    risk_database_url: str | None = Field(
        default=None, description="Database of the risk log, when followers read it elsewhere."
    )
    var_dir: Path = Field(default=Path("var"), description="Directory for generated keys and the embedded database.")
    env: str = Field(default="development", description="`production` refuses development tokens.")
    jwt_secret: str | None = Field(
        default=None, description="HS256 key for development tokens; generated under var/ when unset."
    )
    checkpoint_key_path: Path | None = Field(default=None, description="Ed25519 private key (PEM) that signs checkpoints; generated under var/ when unset.")
    checkpoint_interval: float = Field(default=300.0, description="Seconds between periodic checkpoints taken by the reporting service (0: never).")
    follower_poll_interval: float = Field(
        default=0.05, description="Seconds a follower waits before polling its upstream log again."
    )
    follower_batch_size: int = Field(default=200, description="Notifications a follower reads per batch.")
    ready_max_lag: int = Field(default=10_000, description="/readyz reports not ready while a follower is more than this many events behind.")
    max_body_bytes: int = Field(default=1_048_576, description="Largest request body accepted (413 beyond).")
    log_level: str = Field(default="INFO", description="Level of the JSON logs.")
    run_followers: bool = Field(default=True, description="Whether this process runs its service's followers.")
    host: str = Field(default="127.0.0.1", description="Interface `aigov run` binds the services to.")
    registry_port: int = 8001
    risk_port: int = 8002
    reporting_port: int = 8003

    def upstream_url(self, service: str) -> str:
        """The database holding ``service``'s log: its own setting, or the shared database."""
        specific = {"registry": self.registry_database_url, "risk": self.risk_database_url}.get(service)
        return specific or self.database_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process; tests construct ``Settings`` explicitly instead."""
    return Settings()
