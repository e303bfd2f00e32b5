"""HTTP adapter of accounts and tokens: sign in, the JWKS, who am I, unit API tokens, admin accounts."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from baocao_shared.auth import JWKS_PATH
from baocao_shared.errors import DomainError
from baocao_shared.http.errors import error_body, error_responses
from baocao_shared.principal import Role
from intake.deps import AccountName, Admin, Auth, ClientAddress, CurrentPrincipal, Uow
from intake.handlers import accounts as use_cases
from intake.handlers import api_tokens

router = APIRouter(tags=["accounts"])
ProvinceCode = Annotated[str, Path(pattern=r"^\d{2}$", examples=["30"])]
UnitCode = Annotated[str, Path(pattern=r"^[A-Z0-9][A-Z0-9-]{0,39}$", examples=["CA"])]
NO_STORE = {"Cache-Control": "no-store"}  # RFC 6749 §5.1: never cache a response that holds a secret


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"example": error_body("code", "message")}}}


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds")


class PrincipalOut(BaseModel):
    subject: str
    role: Role
    province: str | None
    unit: str | None
    via: str


class ApiTokenIn(BaseModel):
    label: str = Field(min_length=1, max_length=200, examples=["Phần mềm quản lý văn bản của Công an tỉnh"])


class ApiTokenOut(BaseModel):
    id: uuid.UUID
    label: str
    province: str
    unit: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class NewApiTokenOut(ApiTokenOut):
    token: str = Field(description="Shown this once: only its hash is kept")


class AccountIn(BaseModel):
    username: str = Field(min_length=2, max_length=80, examples=["30-CA"])
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    province: str | None = Field(None, examples=["30"])
    unit: str | None = Field(None, examples=["CA"])


class AccountOut(BaseModel):
    username: str
    role: Role
    province: str | None
    unit: str | None
    active: bool
    created_at: datetime


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024)


class DemoAccountOut(BaseModel):
    username: str
    role: Role
    province: str | None
    unit: str | None


@router.post(
    "/v1/auth/token",
    response_model=TokenOut,
    summary="Sign in (OAuth2 password form): an EdDSA JWT",
    responses={
        401: _error("Wrong username or password"),
        429: _error("Too many failures from this address (for this username, or for all); see Retry-After"),
    },
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], client: ClientAddress, uow: Uow, auth: Auth
):
    async with uow:  # a failure is recorded even though the answer is an error
        outcome = await use_cases.authenticate(uow, auth, username=form.username, password=form.password, client=client)
    if isinstance(outcome, DomainError):
        raise outcome
    body = TokenOut(access_token=outcome.access_token, expires_in=outcome.expires_in)
    return Response(body.model_dump_json(), media_type="application/json", headers=NO_STORE)


@router.get(JWKS_PATH, summary="intake's public signing keys (JWKS)", tags=["accounts"])
async def jwks(auth: Auth, response: Response) -> dict:
    response.headers["Cache-Control"] = "public, max-age=300"
    return auth.signing_key.jwks()


@router.get("/v1/auth/me", response_model=PrincipalOut, summary="Who the token says the caller is")
async def me(principal: CurrentPrincipal):
    return PrincipalOut(**vars(principal))


TOKENS = "/v1/units/{province}/{unit}/api-tokens"


@router.post(
    TOKENS,
    status_code=201,
    response_model=NewApiTokenOut,
    responses=error_responses(403, 404),
    summary="A new API token for a unit (shown once)",
)
async def create_api_token(
    province: ProvinceCode,
    unit: UnitCode,
    body: ApiTokenIn,
    principal: CurrentPrincipal,
    uow: Uow,
    auth: Auth,
    response: Response,
):
    async with uow:
        new = await api_tokens.issue_api_token(
            uow, province=province, unit=unit, label=body.label, actor=principal, now=auth.clock.now()
        )
    response.headers.update(NO_STORE)
    return NewApiTokenOut(**vars(new))


@router.get(
    TOKENS,
    response_model=list[ApiTokenOut],
    responses=error_responses(403, 404),
    summary="A unit's API tokens (never their secrets)",
)
async def list_api_tokens(province: ProvinceCode, unit: UnitCode, principal: CurrentPrincipal, uow: Uow):
    async with uow:
        return await api_tokens.list_api_tokens(uow, province=province, unit=unit, actor=principal)


@router.delete(
    TOKENS + "/{token_id}", status_code=204, responses=error_responses(403, 404), summary="Revoke a unit's API token"
)
async def revoke_api_token(
    province: ProvinceCode, unit: UnitCode, token_id: uuid.UUID, principal: CurrentPrincipal, uow: Uow, auth: Auth
):
    async with uow:
        await api_tokens.revoke_api_token(
            uow, province=province, unit=unit, token_id=token_id, actor=principal, now=auth.clock.now()
        )
    return Response(status_code=204)


@router.post(
    "/v1/admin/accounts",
    status_code=201,
    response_model=AccountOut,
    summary="Create an account (admin)",
    responses={
        **error_responses(403),
        409: _error("The username is taken"),
        422: _error("Role, province and unit do not fit"),
    },
)
async def create_account(body: AccountIn, admin: Admin, uow: Uow, auth: Auth):
    async with uow:
        return await use_cases.create_account(uow, **body.model_dump(), actor=admin.subject, now=auth.clock.now())


@router.put(
    "/v1/admin/accounts/{username}/password",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Set an account's password (admin)",
)
async def set_password(username: AccountName, body: PasswordIn, admin: Admin, uow: Uow, auth: Auth):
    async with uow:
        await use_cases.set_password(
            uow, username=username, password=body.password, actor=admin.subject, clock=auth.clock
        )
    return Response(status_code=204)


@router.post(
    "/v1/admin/demo-accounts",
    response_model=list[DemoAccountOut],
    responses=error_responses(403),
    summary="Create the demo accounts for the stored catalogue (admin; refused in production)",
    description="admin, national, op-<province> and <province>-<unit>, all with BAOCAO_DEMO_PASSWORD. "
    "Existing accounts are left alone; the answer lists the accounts created now.",
)
async def seed_demo_accounts(admin: Admin, uow: Uow, request: Request, auth: Auth):
    settings = request.app.state.runtime.settings
    async with uow:
        created = await use_cases.seed_demo_accounts(
            uow, password=settings.demo_password, env=settings.env, actor=admin.subject, now=auth.clock.now()
        )
    return [DemoAccountOut(username=u, role=r, province=p, unit=n) for u, r, p, n in created]
