"""Each service's Alembic history builds exactly the tables its code declares (adapters/orm.py): a column, index or
constraint added to one and not the other fails here, not in production."""

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from baocao_shared.db import upgrade_database
from baocao_testing.fixtures import create_database

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["intake", "deadlines", "consolidation", "notify"])
async def test_the_migrated_schema_is_the_declared_one(postgres, service):
    migrations = importlib.import_module(f"{service}.main").MIGRATIONS
    declared = importlib.import_module(f"{service}.adapters.orm").metadata
    url = await create_database(postgres, service)
    await upgrade_database(migrations, url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), declared))
    finally:
        await engine.dispose()
    assert diff == [], f"{service}: migrations and adapters/orm.py differ: {diff}"
