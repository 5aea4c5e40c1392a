"""Alembic environment: one migration history for SQLite and PostgreSQL, covering every aigov table."""

from __future__ import annotations

from alembic import context

from aigov.tables import ALL_METADATA
from shared.database import create_engine
from shared.schema import compare_type
from shared.settings import Settings

config = context.config


def database_url() -> str:
    """``-x url=…`` or ``sqlalchemy.url`` set by the caller, else ``AIGOV_DATABASE_URL``."""
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or Settings().database_url
    )


def run_migrations_online() -> None:
    engine = create_engine(database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=ALL_METADATA,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=compare_type,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=ALL_METADATA, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
