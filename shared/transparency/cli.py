"""``aigov witness …`` and the transparency checks of ``aigov log verify``, ``aigov audit verify`` and
``aigov audit prove`` (the audit and log commands call in here; the witness is a typer sub-app of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from shared.settings import Settings
from shared.transparency.note import SignatureType, Signer, Verifier

witness_app = typer.Typer(no_args_is_help=True, help="A C2SP tlog-witness that cosigns the services' checkpoints.")

DEFAULT_WITNESS_NAME = "witness.aigov.localhost/local"


def witness_signer(key_path: Path, name: str) -> Signer:
    from shared.transparency.publish import load_or_create_key

    return Signer(name, SignatureType.COSIGNATURE_V1, load_or_create_key(key_path))


def log_vkeys(settings: Settings) -> list[str]:
    """The vkeys of the services' logs (what a witness is configured to trust)."""
    from shared.transparency.publish import log_signer

    return [log_signer(settings, service).verifier.vkey() for service in ("registry", "risk")]


@witness_app.command("serve")
def witness_serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8009,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    key_path: Annotated[Path, typer.Option(help="The witness's Ed25519 key (PEM; generated if absent).")] = Path(
        "var/witness/witness-ed25519.pem"
    ),
    database_url: Annotated[
        str, typer.Option(help="The witness's own storage.")
    ] = "sqlite:///var/witness/witness.sqlite3",
    name: Annotated[str, typer.Option(help="The witness's key name.")] = DEFAULT_WITNESS_NAME,
    log: Annotated[list[str] | None, typer.Option(help="vkey of a log to witness (repeatable).")] = None,
) -> None:
    """Run a witness: cosign each log's checkpoint only when it extends the last one cosigned."""
    import uvicorn

    from shared.observability import json_log_config
    from shared.transparency.witness import WitnessService, create_witness_app

    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    logs = [Verifier.from_vkey(vkey) for vkey in (log or log_vkeys(Settings()))]
    service = WitnessService(witness_signer(key_path, name), logs, database_url)
    uvicorn.run(create_witness_app(service), host=host, port=port, log_config=json_log_config(Settings().log_level))


@witness_app.command("key")
def witness_key(
    key_path: Annotated[Path, typer.Option(help="The witness's Ed25519 key (PEM; generated if absent).")] = Path(
        "var/witness/witness-ed25519.pem"
    ),
    name: Annotated[str, typer.Option(help="The witness's key name.")] = DEFAULT_WITNESS_NAME,
) -> None:
    """Print the witness's vkey (what AIGOV_WITNESSES and --witness-key take)."""
    typer.echo(witness_signer(key_path, name).verifier.vkey())


def log_check(application: Any, settings: Settings, trusted_files: Iterable[Path]) -> tuple[Any, dict[str, Any]]:
    """``aigov log verify``: one pass over the log checks its hash chain and that it extends every checkpoint the
    service and its witnesses hold (and the trusted files); returns the chain's result and the tree's report."""
    from sqlalchemy import select

    from shared.schema import COSIGNATURE_TABLES
    from shared.transparency.audit import cosigned_rows_heads, heads_from_notes, witnessed_heads
    from shared.transparency.publish import log_signer, parse_witnesses

    service = application.name
    signer = log_signer(settings, service)
    witnesses = parse_witnesses(settings.witnesses)
    table = COSIGNATURE_TABLES[service]
    with application.read_session() as session:
        rows = session.execute(select(table.c.tree_size, table.c.root_hash, table.c.signature_line)).all()
    trusted = cosigned_rows_heads(rows, signer.name, witnesses)
    heads, problems = witnessed_heads(witnesses, signer.name)
    if not witnesses:
        problems.append("AIGOV_WITNESSES names no witness: nothing outside this database to compare the log with")
    trusted += heads
    notes = [path.read_text(encoding="utf-8") for path in trusted_files]
    trusted += [
        head
        for head in heads_from_notes(notes, signer.verifier, [w.verifier for w in witnesses], "trusted checkpoint")
        if head.source.startswith("trusted")
    ]
    checked = application.check_log(trusted)
    tree = {**checked.tree.as_dict(), "trusted_checkpoints": len(trusted), "witness_problems": problems}
    return checked.chain, tree


def audit_check(
    lines: Iterable[str], public_key: Path | None, trusted: list[Path], witness_keys: list[str]
) -> tuple[Any, dict[str, Any]]:
    """``aigov audit verify`` in one pass over the export: the chain's verdict and the tree's report."""
    from shared.checkpoints import load_public_key
    from shared.transparency.audit import witness_verifiers
    from shared.transparency.exports import verify_export_all

    key = load_public_key(public_key.read_bytes()) if public_key else None
    chain, tree = verify_export_all(
        lines, key, witness_verifiers(witness_keys), [path.read_text(encoding="utf-8") for path in trusted]
    )
    return chain, tree.as_dict()


def audit_prove(
    export: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    position: Annotated[int, typer.Option(help="The event's position in its log.")],
    service: Annotated[str, typer.Option(help="registry or risk")] = "registry",
) -> None:
    """Print an inclusion proof of the event at POSITION against the export's checkpoint of its log."""
    from shared.hashchain import canonical_bytes
    from shared.transparency import merkle
    from shared.transparency.exports import TREE_CHECKPOINT

    leaves: list[bytes] = []
    index: int | None = None
    note: str | None = None
    with export.open(encoding="utf-8") as handle:
        for raw in handle:
            record = json.loads(raw) if raw.strip() else {}
            if record.get("service") != service:
                continue
            if record.get("kind") == "event":
                if record["position"] == position:
                    index = len(leaves)
                leaf = canonical_bytes(
                    record["position"],
                    record["originator_id"],
                    record["originator_version"],
                    record["topic"],
                    record["state"].encode("utf-8"),
                )
                leaves.append(merkle.leaf_hash(leaf))
            elif record.get("kind") == TREE_CHECKPOINT:
                note = record["note"]
    if index is None:
        typer.echo(json.dumps({"error": f"no {service} event at position {position} in the export"}))
        raise typer.Exit(1)
    tree = merkle.MemoryTree(leaves)
    proof = {
        "service": service,
        "position": position,
        "leaf_index": index,
        "tree_size": tree.size,
        "leaf_hash": leaves[index].hex(),
        "hashes": [hash_.hex() for hash_ in merkle.inclusion_proof(tree.node, index, tree.size)],
        "root_hash": tree.root().hex(),
        "checkpoint": note,
    }
    typer.echo(json.dumps(proof, indent=2, ensure_ascii=False))
