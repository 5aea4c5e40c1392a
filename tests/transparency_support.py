"""Test support for the transparency log: a witness served in-process, a log with its publisher, an intruder."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from sqlalchemy import text

from services.registry.application import RegistryApplication
from services.registry.domain import Stage
from services.risk.application import RiskApplication
from shared.database import create_engine
from shared.hashchain import GENESIS_HASH, canonical_bytes, link
from shared.meta import EventMeta
from shared.settings import Settings
from shared.transparency.note import SignatureType, Signer
from shared.transparency.publish import Publisher, log_signer, parse_witnesses
from shared.transparency.store import append_leaves
from shared.transparency.witness import WitnessService, create_witness_app
from tests.support import free_port, project_body

ADMIN = EventMeta("root", "Root", "admin", None, None, "corr-1")
PLANNER = EventMeta("alice", "Alice", "planner", "MIC", "budget approved", "corr-2")
TAMPERED_TABLES = ("registry_events", "registry_event_hashes", "registry_tree_leaves", "registry_tree_nodes")


@dataclass
class RunningWitness:
    url: str
    service: WitnessService

    @property
    def vkey(self) -> str:
        return self.service.signer.verifier.vkey()


@contextmanager
def running_witness(storage_url: str, logs: list[str], key_dir: Path) -> Iterator[RunningWitness]:
    """A witness on a free loopback port, in a thread of the test process."""
    from shared.transparency.cli import witness_signer
    from shared.transparency.note import Verifier

    signer = witness_signer(key_dir / "witness.pem", f"witness.test/{uuid.uuid4().hex[:6]}")
    service = WitnessService(signer, [Verifier.from_vkey(vkey) for vkey in logs], storage_url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_witness_app(service), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("witness did not start")
        time.sleep(0.02)
    try:
        yield RunningWitness(url, service)
    finally:
        server.should_exit = True
        thread.join(5)
        service.engine.dispose()


@dataclass
class WitnessedLog:
    """A registry log on the test database, its publisher, and a witness holding its cosigned history."""

    url: str
    settings: Settings
    app: RegistryApplication
    publisher: Publisher
    witness: RunningWitness

    saved: list[str] = field(default_factory=list)

    def witness_now(self) -> int:
        """Push the current head to the witness (what the pusher thread does within a second of a write), and
        save its checkpoint as a monitor polling ``GET /v1/log/checkpoint`` would."""
        size, root = self.publisher.reader.head()
        self.publisher.push(size, root)
        self.saved.append(self.publisher.latest())
        return size

    def cli_env(self) -> dict[str, str]:
        return {
            "AIGOV_DATABASE_URL": self.url,
            "AIGOV_VAR_DIR": str(self.settings.var_dir),
            "AIGOV_CHECKPOINT_KEY_PATH": str(self.settings.checkpoint_key_path),
            "AIGOV_TLOG_ORIGIN_PREFIX": self.settings.tlog_origin_prefix,
            "AIGOV_WITNESSES": self.settings.witnesses or "",
        }


@contextmanager
def witnessed_log(url: str, directory: Path) -> Iterator[WitnessedLog]:
    base = Settings(
        database_url=url,
        var_dir=directory / "var",
        checkpoint_key_path=directory / "log-ed25519.pem",
        tlog_origin_prefix=f"aigov-{uuid.uuid4().hex[:8]}.test",
    )
    logs = [log_signer(base, service).verifier.vkey() for service in ("registry", "risk")]
    with running_witness(f"sqlite:///{directory / 'witness.sqlite3'}", logs, directory) as witness:
        settings = base.model_copy(update={"witnesses": f"{witness.url} {witness.vkey}"})
        app = RegistryApplication(url)
        publisher = Publisher(app, log_signer(settings, "registry"), parse_witnesses(settings.witnesses))
        risk = RiskApplication(url)
        Publisher(risk, log_signer(settings, "risk"), parse_witnesses(settings.witnesses)).step(-1)  # empty, cosigned
        yield WitnessedLog(url, settings, app, publisher, witness)


def seed_witnessed(log: WitnessedLog, projects: int = 3) -> list[int]:
    """Seven events for three projects, each witnessed as it is written; returns the positions."""
    app = log.app
    app.establish_ministry("MIC", "Internal Affairs", ADMIN)
    log.witness_now()
    for number in range(projects):
        details = project_body("MIC", title=f"Project {number}")
        details.pop("ministry")
        project = app.register_project("MIC", details, PLANNER)
        log.witness_now()
        app.transition_project(project.id, Stage.procurement, PLANNER)
        log.witness_now()
    return [entry.position for entry in app.read_log(after=0, limit=1000)]


class Intruder:
    """Someone with the database's superuser rights: disables the guards, then edits as they please."""

    def __init__(self, url: str):
        self.engine = create_engine(url)

    def __enter__(self) -> Intruder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()

    def disable_guards(self, connection: object) -> None:
        if self.engine.dialect.name == "postgresql":
            for table in TAMPERED_TABLES:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))  # type: ignore[attr-defined]
        else:
            names = connection.execute(  # type: ignore[attr-defined]
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'registry_%'")
            ).scalars()
            for name in list(names):
                connection.execute(text(f"DROP TRIGGER {name}"))  # type: ignore[attr-defined]

    def events(self, connection: object, after: int = 0) -> list[tuple]:
        return list(
            connection.execute(  # type: ignore[attr-defined]
                text(
                    "SELECT id, originator_id, originator_version, topic, state FROM registry_events "
                    "WHERE id > :after ORDER BY id"
                ),
                {"after": after},
            )
        )

    def delete_from(self, position: int, rebuild_tree: bool = True) -> None:
        """Delete every event from ``position`` on, with its chain link (and, when careful, its tree rows)."""
        with self.engine.begin() as connection:
            self.disable_guards(connection)
            connection.execute(text("DELETE FROM registry_events WHERE id >= :p"), {"p": position})
            connection.execute(text("DELETE FROM registry_event_hashes WHERE position >= :p"), {"p": position})
            if rebuild_tree:
                self._cut_tree(connection, position)

    def _cut_tree(self, connection: object, position: int) -> None:
        kept = connection.execute(  # type: ignore[attr-defined]
            text("SELECT count(*) FROM registry_tree_leaves WHERE position < :p"), {"p": position}
        ).scalar_one()
        connection.execute(text("DELETE FROM registry_tree_leaves WHERE leaf_index >= :k"), {"k": kept})  # type: ignore[attr-defined]
        for level, index in list(connection.execute(text("SELECT level, node_index FROM registry_tree_nodes"))):  # type: ignore[attr-defined]
            if (index + 1) << level > kept:
                connection.execute(  # type: ignore[attr-defined]
                    text("DELETE FROM registry_tree_nodes WHERE level = :l AND node_index = :i"),
                    {"l": level, "i": index},
                )

    def forge(self, rows: list[tuple[int, object, int, str, bytes]]) -> None:
        """Insert events at the given positions, chained and added to the tree by the published rules."""
        with self.engine.begin() as connection:
            self.disable_guards(connection)
            previous = (
                connection.execute(
                    text("SELECT hash FROM registry_event_hashes ORDER BY position DESC LIMIT 1")
                ).scalar_one_or_none()
                or GENESIS_HASH
            )
            leaves = []
            for position, originator_id, version, topic, state in rows:
                connection.execute(
                    text(
                        "INSERT INTO registry_events (id, originator_id, originator_version, topic, state) "
                        "VALUES (:id, :oid, :v, :t, :s)"
                    ),
                    {"id": position, "oid": originator_id, "v": version, "t": topic, "s": state},
                )
                leaf = canonical_bytes(position, _uuid(originator_id), version, topic, state)
                previous = link(previous, leaf)
                connection.execute(
                    text("INSERT INTO registry_event_hashes (position, hash) VALUES (:p, :h)"),
                    {"p": position, "h": previous},
                )
                leaves.append(leaf)
            append_leaves(connection, "registry", [row[0] for row in rows], leaves)  # type: ignore[arg-type]


def _uuid(value: object) -> object:
    return uuid.UUID(bytes=bytes(value)) if isinstance(value, bytes | memoryview) else value


def witness_signer_for_tests(name: str = "witness.test/w") -> Signer:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Signer(name, SignatureType.COSIGNATURE_V1, Ed25519PrivateKey.generate())
