"""Alembic environment: runs migrations against the URL in the Alembic config."""

from alembic import context
from sqlalchemy import pool

from seethesigns.db import described_by_models, make_engine
from seethesigns.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations online, with batch mode so that SQLite can alter tables."""
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=described_by_models,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
