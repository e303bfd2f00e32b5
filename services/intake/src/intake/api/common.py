"""Dependencies the intake routes share besides auth: the clock's current instant."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request


def current_time(request: Request) -> datetime:
    return request.app.state.runtime.clock.now()


Now = Annotated[datetime, Depends(current_time)]
