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
# Hải Dương names its successors in Hải Phòng, both plans the national regime they report into.
FILES = ("../national/nhan-quyen.yaml", "30-hai-duong.yaml", "31-hai-phong.yaml")
REPO = Path(__file__).resolve().parents[4]


async def test_catalog_load_stamps_the_catalogue_with_the_file_clock(fresh_database, tmp_path):
    clock = tmp_path / "clock"
    write_clock_file(clock, datetime(2019, 6, 10, 9, tzinfo=timezone(timedelta(hours=7))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_") and k != "DATABASE_URL"}
    env |= {"BAOCAO_DATABASE_URL": fresh_database, "BAOCAO_ENV": "test", "BAOCAO_CLOCK": "file"}
    env |= {"BAOCAO_CLOCK_FILE": str(clock)}
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intake.cli", "catalog", "load", *(str(REPO / f"deploy/provinces/{f}") for f in FILES),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(cli.communicate(), timeout=120)
    assert cli.returncode == 0, output.decode()

    engine = make_engine(fresh_database, pool_size=1)
    try:
        async with engine.connect() as conn:
            stamps = set()
            for table in (orm.provinces, orm.units, orm.plans, orm.regimes):
                stamps |= set((await conn.execute(select(table.c.updated_at))).scalars())
    finally:
        await engine.dispose()
    assert stamps == {datetime(2019, 6, 10, 2, tzinfo=UTC)}, "the instant in the clock file, not the machine's"


async def test_catalog_tracking_starts_each_plan_at_the_first_month_demo_history_fills(fresh_database, tmp_path):
    """`make up`'s demo: `catalog tracking 30 --past 2 --keep` on 20 August 2019 tracks plan 467 from 2019-07 (the
    last two due are 2019-07 and 2019-08, due 16/08), a later run keeps it, and a province file load keeps it too."""
    clock = tmp_path / "clock"
    write_clock_file(clock, datetime(2019, 8, 20, 9, tzinfo=timezone(timedelta(hours=7))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_") and k != "DATABASE_URL"}
    env |= {"BAOCAO_DATABASE_URL": fresh_database, "BAOCAO_ENV": "test", "BAOCAO_CLOCK": "file"}
    env |= {"BAOCAO_CLOCK_FILE": str(clock)}

    async def cli(*args: str) -> str:
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "intake.cli", *args, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(run.communicate(), timeout=120)
        assert run.returncode == 0, output.decode()
        return output.decode()

    await cli("catalog", "load", *(str(REPO / f"deploy/provinces/{f}") for f in FILES))
    assert "plan hd-467-2019: tracked from 2019-07" in await cli("catalog", "tracking", "30", "--past", "2", "--keep")
    write_clock_file(clock, datetime(2019, 12, 20, 9, tzinfo=timezone(timedelta(hours=7))))
    assert "tracked from 2019-07" in await cli("catalog", "tracking", "30", "--past", "2", "--keep")
    assert "tracked from 2019-09" in await cli("catalog", "tracking", "30", "hd-467-2019", "--from", "2019-09")
    await cli("catalog", "load", *(str(REPO / f"deploy/provinces/{f}") for f in FILES))
    assert "tracked from 2019-09" in await cli("catalog", "tracking", "30", "--past", "2", "--keep")
