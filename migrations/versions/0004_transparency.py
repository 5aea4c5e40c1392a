"""transparency log: each event log's Merkle tree (leaves, perfect-subtree nodes), witness cosignatures, a
backfilled tree for existing events (no stored event is rewritten), and a database that refuses more:
TRUNCATE on PostgreSQL, replacing a row (INSERT OR REPLACE) on SQLite.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SERVICES = ("registry", "risk")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: Tables nobody may change or empty once written.
APPEND_ONLY = tuple(
    f"{service}_{suffix}" for service in SERVICES for suffix in ("events", "event_hashes", "tree_leaves", "tree_nodes")
)
NEW_APPEND_ONLY = tuple(name for name in APPEND_ONLY if "tree" in name)
#: The columns whose existing value an INSERT OR REPLACE would silently delete on SQLite.
UNIQUE_KEYS = {
    "events": (("id",), ("originator_id", "originator_version")),
    "event_hashes": (("position",),),
    "tree_leaves": (("leaf_index",), ("position",)),
    "tree_nodes": (("level", "node_index"),),
}
BACKFILL_BATCH = 5000


def _create_tables(service: str) -> None:
    op.create_table(
        f"{service}_tree_leaves",
        sa.Column("leaf_index", POSITION, autoincrement=False, nullable=False),
        sa.Column("position", POSITION, nullable=False),
        sa.PrimaryKeyConstraint("leaf_index"),
        sa.UniqueConstraint("position"),
    )
    op.create_table(
        f"{service}_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", POSITION, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index"),
    )
    op.create_table(
        f"{service}_cosignatures",
        sa.Column("tree_size", POSITION, autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=255), nullable=False),
        sa.Column("root_hash", sa.String(length=44), nullable=False),
        sa.Column("signature_line", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", "witness"),
    )


def _backfill(service: str) -> None:
    """Grow the tree over the events already stored, in log order, reading each event once."""
    from shared.hashchain import canonical_bytes
    from shared.transparency.store import append_leaves

    connection = op.get_bind()
    events = sa.table(
        f"{service}_events",
        sa.column("id"),
        sa.column("originator_id"),
        sa.column("originator_version"),
        sa.column("topic"),
        sa.column("state"),
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state)
            .where(events.c.id > after)
            .order_by(events.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        leaves = [canonical_bytes(row[0], _uuid(row[1]), row[2], row[3], bytes(row[4])) for row in rows]
        append_leaves(connection, service, [row[0] for row in rows], leaves)
        after = rows[-1][0]


def _uuid(value: object) -> object:
    """SQLite hands the library's UUIDType back as 16 raw bytes when read without the ORM type."""
    from uuid import UUID

    return UUID(bytes=bytes(value)) if isinstance(value, bytes | memoryview) else value


def _postgres_guards() -> None:
    for table in NEW_APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION aigov_refuse_change()"
        )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION aigov_refuse_change()"
        )


def _sqlite_guards() -> None:
    for table in NEW_APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'aigov event logs are append-only'); END"
            )
    for table in APPEND_ONLY:
        suffix = table.split("_", 1)[1]
        exists = " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE " + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")"
            for key in UNIQUE_KEYS[suffix]
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {exists} "
            f"BEGIN SELECT RAISE(ABORT, 'aigov event logs are append-only: an existing row may not be replaced'); END"
        )


def upgrade() -> None:
    for service in SERVICES:
        _create_tables(service)
        _backfill(service)
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guards()
    else:
        _sqlite_guards()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            if table in NEW_APPEND_ONLY:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
            for operation in ("update", "delete"):
                if table in NEW_APPEND_ONLY:
                    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    for service in SERVICES:
        for suffix in ("cosignatures", "tree_nodes", "tree_leaves"):
            op.drop_table(f"{service}_{suffix}")
