"""The ``aigov`` console script: run the services, migrate, issue dev tokens, verify logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from services.registry.contract import REGISTRY
from services.risk.contract import RISK
from shared.settings import Settings
from shared.transparency.cli import audit_prove, witness_app

#: The logs an export holds, each read through its service's published contract.
CONTRACTS = (REGISTRY, RISK)

app = typer.Typer(no_args_is_help=True, help="aigov: governance of generative AI in public administration.")
log_app = typer.Typer(no_args_is_help=True, help="The services' event logs.")
app.add_typer(log_app, name="log")
audit_app = typer.Typer(
    no_args_is_help=True, help="Verify and replay an audit export offline (no services, no database)."
)
app.add_typer(audit_app, name="audit")
reporting_app = typer.Typer(no_args_is_help=True, help="The reporting service's read models.")
app.add_typer(reporting_app, name="reporting")
app.add_typer(witness_app, name="witness")
audit_app.command("prove")(audit_prove)

SERVICES = {
    "registry": "services.registry.service:create_app",
    "risk": "services.risk.service:create_app",
    "reporting": "services.reporting.service:create_app",
}


#: What ``aigov run`` prints for getting tokens: an admin's (to register ministries) and a planner's.
TOKEN_COMMANDS = (
    '.venv/bin/aigov token --sub root  --name "Root"  --role admin',
    '.venv/bin/aigov token --sub alice --name "Alice" --role planner --ministry MIC',
)


def _port(settings: Settings, service: str) -> int:
    return {"registry": settings.registry_port, "risk": settings.risk_port, "reporting": settings.reporting_port}[
        service
    ]


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
    role: Annotated[
        list[str], typer.Option(help="Role (repeatable): planner, caio, board_member, secretariat, auditor, admin.")
    ],
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
    from shared.gatekeeper import PARSER_HEAD_LIMIT
    from shared.observability import json_log_config

    uvicorn.run(
        SERVICES[service],
        factory=True,
        host=settings.host,
        port=port or _port(settings, service),
        log_config=json_log_config(settings.log_level),
        h11_max_incomplete_event_size=PARSER_HEAD_LIMIT,  # oversized headers reach the gate: 431, not a reset
    )


@app.command()
def run() -> None:
    """Migrate, then run the three services until Ctrl-C."""
    from shared.migrate import upgrade

    # Ctrl-C or `kill -INT` stops everything, even when started where SIGINT is ignored (a shell's background job
    # without job control, nohup): Python leaves an inherited ignored SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = Settings()
    upgrade(settings.database_url)
    witness, env = _local_witness(settings)
    processes = {
        name: subprocess.Popen([sys.executable, "-m", "aigov.cli", "serve", name], env=env) for name in SERVICES
    }
    processes["witness"] = witness
    for name in SERVICES:
        typer.echo(f"{name:>9}: http://{settings.host}:{_port(settings, name)}  (OpenAPI: /docs)")
    typer.echo(f"database : {settings.database_url}")
    typer.echo(f"witnesses: {env['AIGOV_WITNESSES']}")
    for command in TOKEN_COMMANDS:
        typer.echo(f"token    : {command}")
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


def _local_witness(settings: Settings) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """One witness beside the services (production runs them elsewhere), unless AIGOV_WITNESSES names some."""
    from shared.transparency.cli import witness_signer
    from shared.transparency.publish import checkpoint_key_path, load_or_create_key

    load_or_create_key(checkpoint_key_path(settings))  # before the services and the witness all reach for it
    port = settings.witness_port
    directory = Path(settings.var_dir) / "witness"
    key_path = directory / "witness-ed25519.pem"
    command = [sys.executable, "-m", "aigov.cli", "witness", "serve", "--port", str(port), "--host", settings.host]
    command += ["--key-path", str(key_path), "--database-url", f"sqlite:///{directory / 'witness.sqlite3'}"]
    vkey = witness_signer(key_path, "witness.aigov.localhost/local").verifier.vkey()
    witnesses = settings.witnesses or f"http://{settings.host}:{port} {vkey}"
    return subprocess.Popen(command), {**os.environ, "AIGOV_WITNESSES": witnesses}


@log_app.command("verify")
def log_verify(
    service: Annotated[str, typer.Option(help="registry, risk or all")] = "all",
    database_url: Annotated[str | None, typer.Option(help="Defaults to AIGOV_DATABASE_URL.")] = None,
    trusted_checkpoint: Annotated[
        list[Path] | None, typer.Option(exists=True, dir_okay=False, help="A C2SP checkpoint saved earlier.")
    ] = None,
    derived: Annotated[
        bool, typer.Option("--derived", help="Also rebuild the tables that authorize or gate actions and compare.")
    ] = False,
) -> None:
    """Walk each log's hash chain and check it extends every cosigned checkpoint; exit 1 naming what broke."""
    from services.registry.application import RegistryApplication
    from services.risk.application import RiskApplication
    from shared.transparency.cli import log_check

    settings = Settings()
    classes = {"registry": RegistryApplication, "risk": RiskApplication}
    chosen = list(classes) if service == "all" else [service]
    failed = False
    for name in chosen:
        if name not in classes:
            raise typer.BadParameter("choose registry, risk or all")
        application = classes[name](database_url or settings.upstream_url(name))
        result, tree = log_check(application, settings, trusted_checkpoint or [])
        extends = tree.pop("ok")
        tree = {"extends_trusted_checkpoints": extends, **tree}
        typer.echo(json.dumps({"service": name, **result.as_dict(), "ok": result.ok and extends, "transparency": tree}))
        failed = failed or not result.ok or not extends
    if derived:
        failed = _derived_differ(settings, database_url) or failed
    raise typer.Exit(1 if failed else 0)


def _derived_differ(settings: Settings, database_url: str | None) -> bool:
    """Print every row of an authorizing table that differs from its rebuild from the logs; True if any."""
    from services.registry.application import RegistryApplication
    from services.registry.derived import gate_differences
    from services.risk.application import RiskApplication
    from services.risk.derived import designation_differences

    registry = RegistryApplication(database_url or settings.upstream_url("registry"))
    risk = RiskApplication(database_url or settings.upstream_url("risk"))
    differences = designation_differences(risk, registry) + gate_differences(registry, risk)
    rows = [difference.as_dict() for difference in differences]
    typer.echo(json.dumps({"derived": {"ok": not rows, "differences": rows}}))
    return bool(rows)


def _export_lines(path: Path, label: str) -> Iterator[str]:
    """The export's lines, with a progress bar on long files."""
    size = path.stat().st_size
    with (
        path.open(encoding="utf-8") as handle,
        typer.progressbar(length=size, label=label, file=sys.stderr) as progress,
    ):
        for line in handle:
            progress.update(len(line.encode("utf-8")))
            yield line


@audit_app.command("verify")
def audit_verify(
    export: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="An NDJSON export from GET /v1/audit/export.")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="PEM from GET /v1/audit/public-key (required)."),
    ] = None,
    trusted_checkpoint: Annotated[
        list[Path] | None,
        typer.Option(exists=True, dir_okay=False, help="A C2SP checkpoint saved earlier that the export must extend."),
    ] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option(help="vkey of a witness whose cosignature every checkpoint must carry.")
    ] = None,
    no_signatures: Annotated[
        bool, typer.Option("--no-signatures", help="Check hashes only, knowingly leaving every signature unchecked.")
    ] = False,
) -> None:
    """Check every link and leaf, every checkpoint, signature and cosignature, and that the export extends every
    trusted checkpoint; exit 1 naming the first break, 2 when no public key is given (without --no-signatures)."""
    from shared.transparency.cli import audit_check

    if public_key is None and not no_signatures:
        typer.echo("give --public-key (or --no-signatures to check hashes only)", err=True)
        raise typer.Exit(2)
    lines = _export_lines(export, "verifying")
    result, tree = audit_check(lines, public_key, trusted_checkpoint or [], witness_key or [])
    typer.echo(json.dumps({**result.as_dict(), "signatures_checked": public_key is not None, "transparency": tree}))
    raise typer.Exit(0 if result.ok and tree["ok"] else 1)


def _replayed(export: Path, as_of: datetime | None) -> Any:
    from services.reporting.projection import Projection
    from shared.export import envelopes

    state, passed = Projection(), set()
    for entry in envelopes(_export_lines(export, "replaying"), CONTRACTS):
        if entry["service"] in passed:
            continue
        if as_of is not None and datetime.fromisoformat(entry["occurred_at"]) > as_of:
            passed.add(entry["service"])  # "as of": each log's prefix whose events had all occurred by then
            continue
        state.apply(entry)
    return state


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise typer.BadParameter("give a time zone, e.g. 2026-11-25T10:00:00+09:00")
    return moment


@audit_app.command("replay")
def audit_replay(
    export: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    project: Annotated[str, typer.Option(help="Project id.")],
    as_of: Annotated[str | None, typer.Option(help="RFC 3339 time; default: the end of the export.")] = None,
) -> None:
    """Print the project's timeline and its state as of a moment, from the export alone."""
    from services.reporting.reports import project_state
    from shared.export import envelopes

    moment = _moment(as_of)
    state = _replayed(export, moment)
    timeline = [
        entry
        for entry in envelopes(export.read_text(encoding="utf-8").splitlines(), CONTRACTS)
        if _about(state, entry, project) and (moment is None or datetime.fromisoformat(entry["occurred_at"]) <= moment)
    ]
    timeline.sort(key=lambda entry: (entry["occurred_at"], entry["service"] != "registry", entry["position"]))
    typer.echo(
        json.dumps(
            {"project_id": project, "as_of": as_of, "timeline": timeline, "state": project_state(state, project)},
            indent=2,
            ensure_ascii=False,
        )
    )


def _about(state: Any, entry: dict[str, Any], project: str) -> bool:
    return entry["aggregate_id"] == project or state.aggregates.get(entry["aggregate_id"]) == project


@audit_app.command("report")
def audit_report(
    export: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    as_of: Annotated[str | None, typer.Option(help="RFC 3339 time; default: the end of the export.")] = None,
    ministry: Annotated[str | None, typer.Option(help="Only this ministry.")] = None,
) -> None:
    """Reproduce the inventory (as GET /v1/inventory answers it) from the export alone."""
    from services.reporting.reports import inventory

    moment = _moment(as_of)
    state = _replayed(export, moment)
    items = inventory(state, ministry=ministry)
    typer.echo(
        json.dumps(
            {
                "positions": state.positions,
                "as_of": moment.isoformat() if moment else None,
                "count": len(items),
                "items": items,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


openapi_app = typer.Typer(no_args_is_help=True, help="The services' OpenAPI documents.")
app.add_typer(openapi_app, name="openapi")
OPENAPI_DIRECTORY = Path(__file__).resolve().parent.parent / "docs" / "openapi"


def openapi_documents() -> dict[str, str]:
    """Each service's OpenAPI document as stable JSON text (built from the code, no service running)."""
    from importlib import import_module

    documents = {}
    for service, target in SERVICES.items():
        module, factory = target.split(":")
        application = getattr(import_module(module), factory)(Settings())
        documents[service] = json.dumps(application.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return documents


@openapi_app.command("export")
def openapi_export(
    directory: Annotated[Path, typer.Option(help="Where to write <service>.json.")] = OPENAPI_DIRECTORY,
) -> None:
    """Write the three OpenAPI documents so integrators can generate clients without running the services."""
    directory.mkdir(parents=True, exist_ok=True)
    for service, document in openapi_documents().items():
        (directory / f"{service}.json").write_text(document, encoding="utf-8")
        typer.echo(f"wrote {directory / f'{service}.json'}")


EVENTS_DIRECTORY = Path(__file__).resolve().parent.parent / "docs" / "events"
contracts_app = typer.Typer(no_args_is_help=True, help="The services' published event contracts.")
app.add_typer(contracts_app, name="contracts")


def event_documents() -> dict[str, str]:
    """Each published contract as a stable JSON Schema document (what readers of a log may rely on)."""
    return {
        contract.service: json.dumps(contract.json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for contract in CONTRACTS
    }


@contracts_app.command("export")
def contracts_export(
    directory: Annotated[Path, typer.Option(help="Where to write <service>.json.")] = EVENTS_DIRECTORY,
) -> None:
    """Write each service's event contract as JSON Schema, so readers in any language can check payloads."""
    directory.mkdir(parents=True, exist_ok=True)
    for service, document in event_documents().items():
        (directory / f"{service}.json").write_text(document, encoding="utf-8")
        typer.echo(f"wrote {directory / f'{service}.json'}")


REBUILD_BATCH = 2000  # events per log per transaction: fewer, larger statements than the live follower's


@reporting_app.command("rebuild")
def reporting_rebuild() -> None:
    """Empty reporting's read models and rebuild them from position zero of both logs."""
    from services.reporting.followers import ProjectionFollower
    from services.reporting.readmodel import ReportingStore

    store = ReportingStore(Settings())
    store.clear()
    total = sum(log.head() for log in store.upstreams.values())
    with typer.progressbar(length=total, label="rebuilding reporting", file=sys.stderr) as progress:
        handled = ProjectionFollower(store, batch_size=REBUILD_BATCH, trace_requests=False).catch_up(
            on_batch=progress.update
        )
    typer.echo(json.dumps({"rebuilt_from_events": handled, "positions": store.positions()}))


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
