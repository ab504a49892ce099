"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from supportdesk.config import Settings
from supportdesk.store.database import create_engine
from supportdesk.store.models import Base


async def test_models_and_migrations_agree(settings: Settings) -> None:
    engine = create_engine(settings.database.url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []
