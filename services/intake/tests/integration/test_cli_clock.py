"""`baocao-intake catalog load` stamps what it loads with the business clock, whichever kind it is."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from baocao_shared.clock import write_clock_file
from baocao_shared.db import make_engine
from intake.adapters import orm

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]


async def test_catalog_load_stamps_the_catalogue_with_the_file_clock(fresh_database, tmp_path):
    clock = tmp_path / "clock"
    write_clock_file(clock, datetime(2019, 6, 10, 9, tzinfo=timezone(timedelta(hours=7))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_") and k != "DATABASE_URL"}
    env |= {"BAOCAO_DATABASE_URL": fresh_database, "BAOCAO_ENV": "test", "BAOCAO_CLOCK": "file"}
    env |= {"BAOCAO_CLOCK_FILE": str(clock)}
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intake.cli", "catalog", "load", str(REPO / "deploy/provinces/30-hai-duong.yaml"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(cli.communicate(), timeout=120)
    assert cli.returncode == 0, output.decode()

    engine = make_engine(fresh_database, pool_size=1)
    try:
        async with engine.connect() as conn:
            stamps = set()
            for table in (orm.provinces, orm.units, orm.plans):
                stamps |= set((await conn.execute(select(table.c.updated_at))).scalars())
    finally:
        await engine.dispose()
    assert stamps == {datetime(2019, 6, 10, 2, tzinfo=UTC)}, "the instant in the clock file, not the machine's"
