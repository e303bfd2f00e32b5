"""The FastAPI dependencies every service's routes share, defined once:

    async def route(principal: CurrentPrincipal, db: Db, now: Now): ...

- `Db`: a fresh AsyncSession per request on the service's runtime; nothing commits unless the route does
  (`async with db.begin():`), so the route owns the transaction. `unit_of_work(ServiceUnitOfWork)` gives
  a service's unit of work the same way (`async with uow:`).
- `Now`: the instant of the service's clock (system, simulated or file clock), read once per request.
- `CurrentPrincipal`: the caller, from `Authorization: Bearer <intake JWT>` or the pages' session cookie;
  else 401. intake, which also takes a unit's API tokens, has its own (intake.deps).
- `require(*roles)`: a dependency returning the caller when it holds one of the roles, else 403.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.auth import SESSION_COOKIE, JwtVerifier
from baocao_shared.errors import Forbidden, Unauthorized
from baocao_shared.principal import Principal, Role

U = TypeVar("U")


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.runtime.sessionmaker() as session:
        yield session


Db = Annotated[AsyncSession, Depends(db_session)]


def unit_of_work(factory: Callable[[AsyncSession], U]) -> Callable[[Request], AsyncIterator[U]]:
    """A dependency giving a service's unit of work (baocao_shared.uow) on a fresh session; the route enters
    it (`async with uow:`), so the route owns the transaction:

        Uow = Annotated[IntakeUnitOfWork, Depends(unit_of_work(IntakeUnitOfWork))]
    """

    async def dependency(request: Request) -> AsyncIterator[U]:
        async with request.app.state.runtime.sessionmaker() as session:
            yield factory(session)

    return dependency


async def current_time(request: Request) -> datetime:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a thread hop on every request.
    return request.app.state.runtime.clock.now()


Now = Annotated[datetime, Depends(current_time)]


def request_token(request: Request, bearer: str | None) -> tuple[str, str] | None:
    """The token a request carries and how: the `Authorization: Bearer` value first, then the session cookie."""
    if bearer:
        return bearer, "jwt"
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, "session"
    return None


PrincipalDependency = Callable[..., Awaitable[Principal]]
_bearer = HTTPBearer(auto_error=False, description="An intake JWT, or (intake only) a unit's API token")


def bearer_principal(verifier: JwtVerifier | None = None) -> PrincipalDependency:
    """A FastAPI dependency: the caller's `Principal`, or 401.

    Without a verifier it uses `request.app.state.jwt_verifier`, set in the service's create_app.
    """

    async def principal(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        found = request_token(request, credentials.credentials if credentials else None)
        if found is None:
            raise Unauthorized("Sign in, or send `Authorization: Bearer <token>`.")
        token, via = found
        checker = verifier or request.app.state.jwt_verifier
        found_principal = await checker.verify(token)
        return found_principal if via == "jwt" else replace(found_principal, via=via)

    return principal


current_principal = bearer_principal()
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role, auth: PrincipalDependency = current_principal) -> PrincipalDependency:
    """A dependency that returns the caller when it holds one of `roles`, else 403 (401 unsigned)."""
    allowed = frozenset(Role(r) for r in roles)

    async def principal_with_role(principal: Annotated[Principal, Depends(auth)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"This needs the role {' or '.join(sorted(allowed))}.")
        return principal

    return principal_with_role


Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
