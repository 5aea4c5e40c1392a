"""Every table aigov uses, declared once so that Alembic migrations and the running code agree.

The event, snapshot and tracking tables are the ``eventsourcing_sqlalchemy`` record classes (declared here
with the names its factory derives from each application's name); the rest are aigov's own tables.
``tests/test_migrations.py`` proves that ``alembic upgrade head`` builds exactly this schema.
"""

from __future__ import annotations

from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.models import Base as LibraryBase
from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, MetaData, SmallInteger, String, Table, Text

#: aigov's own tables (hash chains, indexes, read models, idempotency keys).
metadata = MetaData()

#: The services whose applications keep an event log, and those that only track other logs.
EVENT_LOG_SERVICES = ("registry", "risk")
TRACKING_SERVICES = ("registry", "risk", "reporting")


def position_column(name: str, *, primary_key: bool = False, nullable: bool = False) -> Column:
    """A log position: BIGINT on PostgreSQL, INTEGER on SQLite, matching the library's notification ids."""
    return Column(
        name,
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=primary_key,
        nullable=nullable,
        autoincrement=False,
    )


def _declare_library_tables() -> None:
    """Declare the library's record classes under the exact table names its factory will ask for."""
    base = SQLAlchemyDatastore
    for service in EVENT_LOG_SERVICES:
        base.define_record_class(
            f"{service.title()}StoredEvent", f"{service}_events", None, base.base_stored_event_record_cls
        )
        base.define_record_class(
            f"{service.title()}Snapshot", f"{service}_snapshots", None, base.base_snapshot_record_cls
        )
    for service in TRACKING_SERVICES:
        base.define_record_class(
            f"{service.title()}Tracking", f"{service}_tracking", None, base.base_notification_tracking_record_cls
        )


_declare_library_tables()
library_metadata: MetaData = LibraryBase.metadata


def _event_hashes(service: str) -> Table:
    return Table(
        f"{service}_event_hashes",
        metadata,
        position_column("position", primary_key=True),
        Column("hash", String(64), nullable=False),
    )


EVENT_HASH_TABLES: dict[str, Table] = {service: _event_hashes(service) for service in EVENT_LOG_SERVICES}


def _tree_leaves(service: str) -> Table:
    """Which log position each Merkle leaf is: positions may skip (a rolled-back PostgreSQL insert), leaves never."""
    return Table(
        f"{service}_tree_leaves",
        metadata,
        position_column("leaf_index", primary_key=True),
        Column("position", position_column("position").type, nullable=False, unique=True),
    )


def _tree_nodes(service: str) -> Table:
    """The hash of every perfect subtree of the log's Merkle tree (level 0: the leaf hashes), for O(log n) proofs."""
    return Table(
        f"{service}_tree_nodes",
        metadata,
        Column("level", SmallInteger, primary_key=True, autoincrement=False),
        position_column("node_index", primary_key=True),
        Column("hash", LargeBinary(32), nullable=False),
    )


def _cosignatures(service: str) -> Table:
    """Witness cosignatures the service collected, per tree size (the checkpoint body is rebuilt from the tree)."""
    return Table(
        f"{service}_cosignatures",
        metadata,
        position_column("tree_size", primary_key=True),
        Column("witness", String(255), primary_key=True),
        Column("root_hash", String(44), nullable=False),
        Column("signature_line", Text, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )


TREE_LEAF_TABLES: dict[str, Table] = {service: _tree_leaves(service) for service in EVENT_LOG_SERVICES}
TREE_NODE_TABLES: dict[str, Table] = {service: _tree_nodes(service) for service in EVENT_LOG_SERVICES}
COSIGNATURE_TABLES: dict[str, Table] = {service: _cosignatures(service) for service in EVENT_LOG_SERVICES}

#: Every MetaData whose tables Alembic owns.
ALL_METADATA: list[MetaData] = [library_metadata, metadata]


def compare_type(
    context: object, inspected_column: object, metadata_column: object, inspected_type: object, metadata_type: object
) -> bool | None:
    """Alembic type comparison, aware that SQLite reflects the library's ``UUIDType`` (BINARY(16)) as NUMERIC.

    Returns False (no difference) for that one case and None (Alembic's default comparison) otherwise.
    """
    from sqlalchemy_utils.types.uuid import UUIDType

    dialect = getattr(getattr(context, "dialect", None), "name", None)
    if dialect == "sqlite" and isinstance(metadata_type, UUIDType):
        return type(inspected_type).__name__ not in {"NUMERIC", "BINARY", "BLOB", "CHAR"}
    return None
