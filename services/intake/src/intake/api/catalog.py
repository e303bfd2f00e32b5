"""HTTP adapter of the catalogue: read provinces, units and plans; load a province file (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from baocao_shared.errors import Unprocessable
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_shared.http.deps import Now
from baocao_shared.http.errors import error_responses
from baocao_shared.principal import Principal, Role
from intake.deps import CurrentPrincipal, Uow, require_roles
from intake.domain.catalog import CatalogFileError, parse_province_file
from intake.handlers import catalog as use_cases

router = APIRouter(tags=["catalogue"])
ProvinceCode = Annotated[str, Query(pattern=r"^\d{2}$", examples=["30"])]


@router.get("/v1/provinces", response_model=list[ProvinceV1], summary="Every province of this deployment")
async def provinces(principal: CurrentPrincipal, uow: Uow):
    async with uow:
        return await use_cases.provinces(uow, principal=principal)


@router.get(
    "/v1/units",
    response_model=list[UnitV1],
    responses=error_responses(404),
    summary="A province's active reporting units",
    description="Their contacts only to the province's staff office, the national office, admins and each "
    "unit's own reporter; other accounts get them without.",
)
async def units(province: ProvinceCode, principal: CurrentPrincipal, uow: Uow):
    async with uow:
        return await use_cases.units(uow, principal=principal, province=province)


@router.get(
    "/v1/plans",
    response_model=list[PlanV1],
    responses=error_responses(404),
    summary="A province's plans, with templates and calendars",
)
async def plans(province: ProvinceCode, _: CurrentPrincipal, uow: Uow):
    async with uow:
        return await use_cases.plans(uow, province=province)


PROVINCE_FILE_EXAMPLE = 'province:\n  code: "30"\n  name: Hải Dương\n  ...\nunits:\n  - code: CA\n    ...\n'


@router.put(
    "/v1/admin/provinces/{code}",
    summary="Load or update a province file (YAML)",
    description="Validates the whole file first; on any problem nothing changes and 422 lists each problem "
    "with its path and line. Every entity that changed is published on baocao.catalog.",
    responses={**error_responses(403), 422: {"description": "Problems by line and path"}},
    openapi_extra={
        "requestBody": {
            "content": {"application/yaml": {"schema": {"type": "string"}, "example": PROVINCE_FILE_EXAMPLE}}
        }
    },
)
async def load_province(
    code: str,
    uow: Uow,
    now: Now,
    principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))],
    text: Annotated[str, Body(media_type="application/yaml")],
    dry_run: bool = False,
):
    try:
        catalog = parse_province_file(text)
    except CatalogFileError as exc:
        raise Unprocessable("The province file has problems; nothing was changed.", exc.problems) from None
    if catalog.province.code != code:
        raise Unprocessable(
            f"The file describes province {catalog.province.code}, not {code}.",
            [{"path": "province.code", "line": None, "message": "does not match the URL"}],
        )
    if dry_run:
        return {"province": code, "valid": True, "units": len(catalog.units), "plans": len(catalog.plans)}
    async with uow:
        return await use_cases.load_province(uow, catalog, actor=principal.subject, now=now)
