"""Dependencies the intake routes share besides auth: the clock's current instant."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request


async def current_time(request: Request) -> datetime:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a thread hop on every request.
    return request.app.state.runtime.clock.now()


Now = Annotated[datetime, Depends(current_time)]
