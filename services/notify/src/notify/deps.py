"""The dependencies notify's routes and pages share, defined once.

- `Uow`: notify's unit of work on a fresh session; the route enters it (`async with uow:`).
- `WallNow`: the wall clock's instant. Deliveries live on the wall clock, not the simulated business clock
  (see notify.sender): a delivery sent again is due now, and a message is read now.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends

from baocao_shared.http.deps import unit_of_work
from notify.adapters.uow import NotifyUnitOfWork


async def wall_clock() -> datetime:
    return datetime.now(UTC)


WallNow = Annotated[datetime, Depends(wall_clock)]
Uow = Annotated[NotifyUnitOfWork, Depends(unit_of_work(NotifyUnitOfWork))]
