"""The dependencies the API and the pages share, defined once."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from typing import Annotated

from fastapi import Depends

from baocao_shared.http.deps import unit_of_work
from consolidation.adapters.uow import ConsolidationUnitOfWork

Uow = Annotated[ConsolidationUnitOfWork, Depends(unit_of_work(ConsolidationUnitOfWork))]
PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$"  # a period of any plan's frequency
PROVINCE = r"^\d{2}$"
