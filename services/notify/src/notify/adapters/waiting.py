"""The `waiting_notices` table: notices kept until notify's catalogue knows their unit, plan or province.

baocao.catalog and the notice topics are not ordered together, so a notice may come first. It is kept as
its event's data under its event id, and comes back as the same notice under the same cause, so that its
deliveries are still made once per (event, recipient, channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events import spec_for
from notify.adapters import orm
from notify.domain.cause import Cause

w = orm.waiting_notices


def kept(cause: Cause, notice: BaseModel, *, unit: str | None, plan_id: str | None = None) -> dict[str, Any]:
    """The waiting_notices row of a notice: its cause, what it waits for, and its data."""
    return {
        "cause_event_id": cause.event_id,
        "cause_type": cause.event_type,
        "province": notice.province,
        "unit": unit,
        "plan_id": plan_id,
        "data": notice.model_dump(mode="json"),
    }


def revived(row: Mapping[str, Any], service_urls: Mapping[str, str]) -> tuple[Cause, BaseModel]:
    """A kept notice as it came: the same cause (so it is still delivered once) and its typed data."""
    cause = Cause(event_id=row["cause_event_id"], event_type=row["cause_type"], service_urls=service_urls)
    return cause, spec_for(cause.event_type).model.model_validate(row["data"])


class WaitingNotices:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hold(self, province: str, unit: str | None = None, *, plan_id: str | None = None) -> None:
        """Take turns, until commit, with whoever looks up or releases the same unit (or plan, or province).

        With several members in the group a notice and its unit's upsert can be applied at once; the
        lock makes either the notice see the unit or the upsert see the waiting notice.
        """
        key = f"notify.waiting:{province}:{unit or ''}" + (f":plan:{plan_id}" if plan_id else "")
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))

    async def keep(self, cause: Cause, notice: BaseModel, *, unit: str | None, plan_id: str | None = None) -> None:
        """Keep a notice for its unit, or plan, or (both None) its province; a second copy of it keeps nothing."""
        row = kept(cause, notice, unit=unit, plan_id=plan_id)
        await self.session.execute(insert(w).values(row).on_conflict_do_nothing())

    async def take(
        self, province: str, unit: str | None, *, service_urls: Mapping[str, str], plan_id: str | None = None
    ) -> list[tuple[Cause, BaseModel]]:
        """Remove and return the notices that waited for this unit, or plan (both None: the province's own),
        oldest first."""
        rows = await self.session.execute(
            delete(w)
            .where(w.c.province == province, w.c.unit == unit, w.c.plan_id == plan_id)
            .returning(w.c.cause_event_id, w.c.cause_type, w.c.data, w.c.created_at)
        )
        return [revived(row._mapping, service_urls) for row in sorted(rows, key=lambda r: r.created_at)]
