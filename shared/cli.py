"""The ``aigov`` console script: run the services, migrate, issue dev tokens, verify logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Annotated

import typer

from shared.settings import Settings

app = typer.Typer(no_args_is_help=True, help="aigov: governance of generative AI in public administration.")
log_app = typer.Typer(no_args_is_help=True, help="The services' event logs.")
app.add_typer(log_app, name="log")

SERVICES = {
    "registry": "services.registry.api:create_app",
    "risk": "services.risk.api:create_app",
    "reporting": "services.reporting.api:create_app",
}


def _port(settings: Settings, service: str) -> int:
    return {"registry": settings.registry_port, "risk": settings.risk_port, "reporting": settings.reporting_port}[service]


@app.command()
def migrate() -> None:
    """Build or upgrade the schema of AIGOV_DATABASE_URL (alembic upgrade head)."""
    from shared.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    typer.echo(f"schema at head: {settings.database_url}")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Subject: the person's stable id.")],
    name: Annotated[str, typer.Option(help="Display name recorded in events.")],
    role: Annotated[list[str], typer.Option(help="Role (repeatable): planner, caio, board_member, secretariat, auditor, admin.")],
    ministry: Annotated[str | None, typer.Option(help="Ministry code, for planner and caio.")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 12 * 3600,
) -> None:
    """Print a development bearer token (HS256, key under var/)."""
    from shared.auth import issue_dev_token

    try:
        typer.echo(issue_dev_token(Settings(), sub, name, role, ministry, ttl))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def serve(service: Annotated[str, typer.Argument(help="registry, risk or reporting")], port: int | None = None) -> None:
    """Run one service in the foreground (what each container runs)."""
    import uvicorn

    if service not in SERVICES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICES)}")
    settings = Settings()
    uvicorn.run(SERVICES[service], factory=True, host=settings.host, port=port or _port(settings, service), log_level="info")


@app.command()
def run() -> None:
    """Migrate, then run the three services until Ctrl-C."""
    from shared.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    processes = {name: subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", name]) for name in SERVICES}
    for name in SERVICES:
        typer.echo(f"{name:>9}: http://{settings.host}:{_port(settings, name)}  (OpenAPI: /docs)")
    typer.echo(f"database : {settings.database_url}")
    typer.echo('token    : .venv/bin/aigov token --sub alice --name "Alice" --role planner --ministry MIC')
    try:
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@log_app.command("verify")
def log_verify(
    service: Annotated[str, typer.Option(help="registry, risk or all")] = "all",
    database_url: Annotated[str | None, typer.Option(help="Defaults to AIGOV_DATABASE_URL.")] = None,
) -> None:
    """Walk each log's hash chain; exit 1 naming the first position that does not match."""
    from services.registry.application import RegistryApplication
    from services.risk.application import RiskApplication

    settings = Settings()
    classes = {"registry": RegistryApplication, "risk": RiskApplication}
    chosen = list(classes) if service == "all" else [service]
    failed = False
    for name in chosen:
        if name not in classes:
            raise typer.BadParameter("choose registry, risk or all")
        result = classes[name](database_url or settings.upstream_url(name)).verify_log()
        typer.echo(json.dumps({"service": name, **result.as_dict()}))
        failed = failed or not result.ok
    raise typer.Exit(1 if failed else 0)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
