"""HTTP adapter of the submission use cases (v1 contract)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from baocao_shared.http.deps import Now
from intake.deps import CurrentPrincipal, Uow
from intake.domain.models import AmendmentIn, Receipt, SubmissionIn, SubmissionOut
from intake.handlers import submissions as use_cases

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

ERRORS = {
    401: {"description": "No valid token"},
    403: {"description": "Another unit's or province's data"},
    404: {"description": "No such submission"},
    409: {"description": "Period locked, already submitted, or Idempotency-Key reused with another body"},
    413: {"description": "Body over 256 KiB"},
    422: {"description": "The report does not match the template; `details` lists each field"},
}


@router.post("", status_code=201, response_model=Receipt, responses=ERRORS, summary="Submit a unit's report")
async def submit(
    body: SubmissionIn,
    principal: CurrentPrincipal,
    uow: Uow,
    now: Now,
    idempotency_key: Annotated[str | None, Header(max_length=200, description="Replays the first answer")] = None,
):
    async with uow:
        answer = await use_cases.submit_once(uow, principal=principal, body=body, now=now, key=idempotency_key)
    if answer.replay is not None:
        replay = answer.replay
        return JSONResponse(replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"})
    return answer.receipt


@router.put("/{submission_id}", response_model=Receipt, responses=ERRORS, summary="Amend a report (version + 1)")
async def amend(submission_id: uuid.UUID, body: AmendmentIn, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        return await use_cases.amend(uow, principal=principal, submission_id=submission_id, body=body, now=now)


@router.get("/{submission_id}", response_model=SubmissionOut, responses=ERRORS, summary="A report with its history")
async def get_submission(submission_id: uuid.UUID, principal: CurrentPrincipal, uow: Uow):
    async with uow:
        return await use_cases.get(uow, principal=principal, submission_id=submission_id)


@router.get("", response_model=list[SubmissionOut], responses=ERRORS, summary="Reports the caller may read")
async def list_submissions(
    principal: CurrentPrincipal,
    uow: Uow,
    province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    plan_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
):
    async with uow:
        return await use_cases.search(
            uow, principal=principal, province=province, unit=unit, period=period, plan_id=plan_id, limit=limit
        )
