"""The dependencies the API and the pages share, defined once."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from typing import Annotated

from fastapi import Depends, Request

from baocao_shared.http.deps import unit_of_work
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain.documents import DocumentPress


def _press(request: Request) -> DocumentPress:
    return request.app.state.press


Uow = Annotated[ConsolidationUnitOfWork, Depends(unit_of_work(ConsolidationUnitOfWork))]
Press = Annotated[DocumentPress, Depends(_press)]  # renders and signs the report's documents (main.create_app)
PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$"  # a period of any plan's frequency
PROVINCE = r"^\d{2}$"
