"""The dependencies that deadlines' routes and pages share, defined once."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from typing import Annotated

from fastapi import Depends

from baocao_shared.http.deps import unit_of_work
from deadlines.adapters.uow import DeadlinesUnitOfWork

Uow = Annotated[DeadlinesUnitOfWork, Depends(unit_of_work(DeadlinesUnitOfWork))]
