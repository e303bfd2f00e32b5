"""Comparing a service's database rebuilt from the topics with the live one, table by table.

Each table is read with a query the test gives (every column, minus the few a test names and justifies as
process-local), its rows sorted, so two databases compare whatever order their rows were written in."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text

from baocao_shared.db import make_engine


async def table_rows(url: str, queries: Mapping[str, str]) -> dict[str, list[dict]]:
    """`{table: sorted rows}` for each `{table: SELECT ...}`."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return {
                table: sorted((dict(r._mapping) for r in await conn.execute(text(query))), key=repr)
                for table, query in queries.items()
            }
    finally:
        await engine.dispose()


def differences(live: Mapping[str, list[dict]], rebuilt: Mapping[str, list[dict]]) -> dict[str, dict]:
    """Per table that differs: the rows only the live database holds and those only the rebuilt one holds."""
    found = {}
    for table in live:
        want, got = live[table], rebuilt.get(table, [])
        missing = [r for r in want if r not in got]
        extra = [r for r in got if r not in want]
        if missing or extra or len(want) != len(got):
            found[table] = {"only_live": missing[:5], "only_rebuilt": extra[:5], "rows": (len(want), len(got))}
    return found
