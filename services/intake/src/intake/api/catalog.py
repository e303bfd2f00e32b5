"""HTTP adapter of the catalogue: read provinces, units, plans and national regimes; load a province file or a
regime file, YAML or JSON (admin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request

from baocao_shared.errors import Unprocessable
from baocao_shared.events.catalog import PLAN_ID, PlanV1, ProvinceV1, RegimeV1, UnitV1
from baocao_shared.http.deps import Now
from baocao_shared.http.errors import error_responses
from baocao_shared.principal import Principal, Role
from intake.deps import CurrentPrincipal, Uow, require_roles
from intake.domain.catalog import (
    ProvinceFile,
    parse_province_file,
    parse_province_json,
)
from intake.domain.catalog_text import CatalogFileError
from intake.domain.regimes import RegimeFile, parse_regime_file, parse_regime_json
from intake.handlers import catalog as use_cases

router = APIRouter(tags=["catalogue"])
T = TypeVar("T")
ProvinceCode = Annotated[str, Query(pattern=r"^\d{2}$", examples=["30"])]
Period = Annotated[
    str | None,
    Query(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$", examples=["2025-06"],
          description="Only those in force in this period (a reorganisation's validity, a plan's periods)"),
]  # fmt: skip


@router.get("/v1/provinces", response_model=list[ProvinceV1], summary="Every province of this deployment")
async def provinces(principal: CurrentPrincipal, uow: Uow):
    async with uow:
        return await use_cases.provinces(uow, principal=principal)


@router.get(
    "/v1/units",
    response_model=list[UnitV1],
    responses=error_responses(404),
    summary="A province's active reporting units (those in force in `period` when it is given)",
    description="Their contacts only to the province's staff office, the national office, admins and each "
    "unit's own reporter; other accounts get them without.",
)
async def units(province: ProvinceCode, principal: CurrentPrincipal, uow: Uow, period: Period = None):
    async with uow:
        return await use_cases.units(uow, principal=principal, province=province, period=period)


@router.get(
    "/v1/plans",
    response_model=list[PlanV1],
    responses=error_responses(404),
    summary="A province's plans, with templates and calendars (those whose periods hold `period` when given)",
)
async def plans(province: ProvinceCode, _: CurrentPrincipal, uow: Uow, period: Period = None):
    async with uow:
        return await use_cases.plans(uow, province=province, period=period)


PROVINCE_FILE_EXAMPLE = 'province:\n  code: "30"\n  name: Hải Dương\n  ...\nunits:\n  - code: CA\n    ...\n'
PROVINCE_FILE_JSON_EXAMPLE = {
    "province": {"code": "30", "name": "Hải Dương", "issuing_body": "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG",
                 "place_name": "Hải Dương"},
    "units": [{"code": "CA", "name": "Công an tỉnh", "contacts": [{"channel": "email", "address": "ca@example.vn"}]}],
    "plans": [],
}  # fmt: skip


@router.put(
    "/v1/admin/provinces/{code}",
    summary="Load or update a province file (YAML or JSON)",
    description="The province file as YAML (deploy/provinces/*.yaml), or the same document as JSON. Validates the "
    "whole file first, then the structure over time of the whole catalogue as it would be after the load (gaps, "
    "overlaps, cycles, unknown successors, an obligation left without a unit); on any problem nothing changes and "
    "422 lists each problem with its path and line. Every "
    "entity that changed is published on baocao.catalog. A body of any other Content-Type is read as YAML.",
    responses={**error_responses(403), 422: {"description": "Problems by line and path"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}, "example": PROVINCE_FILE_EXAMPLE},
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ProvinceFile"},
                    "example": PROVINCE_FILE_JSON_EXAMPLE,
                },
            },
        }
    },
)
async def load_province(
    code: str,
    request: Request,
    uow: Uow,
    now: Now,
    principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))],
    dry_run: bool = False,
):
    catalog = await _read_file(request, "province", json=parse_province_json, yaml=parse_province_file)
    _names(catalog.province.code, code, "province", "province.code")
    async with uow:
        # The structure over time of the whole catalogue as it would be after the load: nothing applied on a problem.
        await use_cases.check_structure(uow, [catalog])
        if dry_run:
            return {"province": code, "valid": True, "units": len(catalog.units), "plans": len(catalog.plans)}
        return await use_cases.load_province(uow, catalog, actor=principal.subject, now=now, checked=True)


@router.get("/v1/regimes", response_model=list[RegimeV1], summary="The national regimes, with their templates")
async def regimes(_: CurrentPrincipal, uow: Uow):
    async with uow:
        return await use_cases.regimes(uow)


REGIME_FILE_EXAMPLE = (
    "regime:\n  id: nhan-quyen\n  number: ...\n  title: ...\n  issued_by: ...\n  template:\n    tasks: ...\n"
)


@router.put(
    "/v1/admin/regimes/{regime_id}",
    summary="Load or update a national regime's file (YAML or JSON)",
    description="The regime file as YAML (deploy/national/*.yaml, a top-level `regime:`), or the same document as "
    "JSON. Validates the file, then every plan that names the regime as the catalogue would be after the load: an "
    "indicator of a stored plan that would map to nothing in the regime is a 422 naming the plan, and nothing "
    "changes. A regime that changed is published on baocao.catalog (vn.baocao.regime.upserted.v1).",
    responses={**error_responses(403), 422: {"description": "Problems by line and path"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}, "example": REGIME_FILE_EXAMPLE},
                "application/json": {"schema": {"$ref": "#/components/schemas/RegimeFile"}},
            },
        }
    },
)
async def load_regime(
    regime_id: Annotated[str, Path(pattern=PLAN_ID, examples=["nhan-quyen"])],
    request: Request,
    uow: Uow,
    now: Now,
    principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))],
    dry_run: bool = False,
):
    catalog = await _read_file(request, "regime", json=parse_regime_json, yaml=parse_regime_file)
    _names(catalog.regime.id, regime_id, "regime", "regime.id")
    async with uow:
        await use_cases.check_structure(uow, [], [catalog])
        if dry_run:
            return {"regime": regime_id, "valid": True}
        return await use_cases.load_regime(uow, catalog, actor=principal.subject, now=now, checked=True)


async def _read_file(request: Request, what: str, *, json: Callable[[str], T], yaml: Callable[[str], T]) -> T:
    """A province's or a regime's file from the body: JSON read as JSON; any other body as YAML, as the province
    route read every body before it took JSON too (application/x-yaml, text/plain, curl's default form type): no
    client of it stops working. Problems are a 422 by line and path; nothing is changed."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    parse = json if media == "application/json" else yaml
    try:
        return parse((await request.body()).decode("utf-8"))
    except UnicodeDecodeError:  # ReadableInput answers 400 first; a text no parser could read all the same
        raise Unprocessable(f"The {what} file is not UTF-8 text; nothing was changed.") from None
    except CatalogFileError as exc:
        raise Unprocessable(f"The {what} file has problems; nothing was changed.", exc.problems) from None


def _names(found: str, expected: str, what: str, path: str) -> None:
    """The file describes the province or regime the URL names."""
    if found != expected:
        raise Unprocessable(
            f"The file describes {what} {found}, not {expected}.",
            [{"path": path, "line": None, "message": "does not match the URL"}],
        )


def document_province_file(app: FastAPI) -> None:
    """Put the province file's JSON schema (`ProvinceFile`, which the PUT's application/json body refers to) in
    the app's OpenAPI components. Schemas of the same name already there (ContactV1) are kept."""
    generate = app.openapi

    def openapi() -> dict:
        schema = generate()  # cached by FastAPI in app.openapi_schema: completed in place, once
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ProvinceFile, RegimeFile):
            if model.__name__ in components:
                continue
            document = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in document.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = document
        return schema

    app.openapi = openapi
