"""FastAPI dependencies that intake's routes and pages share, defined once: the unit of work, the
authenticator, the client's address and the caller.

    async def route(principal: CurrentPrincipal, uow: Uow, now: Now):
        async with uow:                 # the route owns the transaction
            return await use_case(uow, ...)

`Uow` is an IntakeUnitOfWork on a fresh session per request; nothing is committed unless the route enters it.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import ipaddress
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer

from baocao_shared.errors import Unauthorized
from baocao_shared.http.deps import request_token, require, unit_of_work
from baocao_shared.principal import Principal, Role
from intake.adapters.api_tokens import ApiTokenRepository
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.accounts import USERNAME
from intake.handlers.accounts import Authenticator
from intake.handlers.api_tokens import API_TOKEN_PREFIX, principal_for_api_token

Uow = Annotated[IntakeUnitOfWork, Depends(unit_of_work(IntakeUnitOfWork))]


async def get_authenticator(request: Request) -> Authenticator:  # async: no worker-thread hop per request
    return request.app.state.authenticator


Auth = Annotated[Authenticator, Depends(get_authenticator)]


def _within(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
    except ValueError:
        return False


def client_address(request: Request) -> str:
    """Who is signing in: the connection's peer, or, behind a trusted proxy, the address the proxies name.

    X-Forwarded-For is read only when the peer is one of `trusted_proxies`: then the client is the right-most
    address not itself a trusted proxy (the ones to its left are whatever the client chose to send). When
    every address is in a trusted network (a browser on the office's private network behind the proxy), the
    client is the left-most one, as the first proxy saw it, not the proxy: else one office shares one allowance.
    """
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.runtime.settings.trusted_proxies
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop[:100]
    return hops[0][:100] if hops else peer


ClientAddress = Annotated[str, Depends(client_address)]

# Declared as OAuth2 password flow so that /docs can sign in; a unit's API token goes in the same header.
_oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


async def get_principal(request: Request, bearer: Annotated[str | None, Depends(_oauth2)], auth: Auth) -> Principal:
    """The caller: an intake JWT (header or session cookie) or a unit's API token (header); else 401."""
    found = request_token(request, bearer)
    if found is None:
        raise Unauthorized("Sign in, or send `Authorization: Bearer <token>`.")
    token, via = found
    if via == "jwt" and token.startswith(API_TOKEN_PREFIX):
        # Outside the route's transaction, so last_used_at is kept even when the route itself fails; each
        # statement commits on its own (a lookup, now and then an update), with no BEGIN and COMMIT around.
        async with request.app.state.runtime.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return await principal_for_api_token(ApiTokenRepository(conn), token=token, now=auth.clock.now())
    principal = await auth.verifier.verify(token)
    return principal if via == "jwt" else replace(principal, via=via)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable:
    """A dependency returning the caller when it holds one of `roles`: 401 unsigned, 403 otherwise."""
    return require(*roles, auth=get_principal)


Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
AccountName = Annotated[str, Path(pattern=USERNAME.pattern, examples=["admin"], description="An account's username")]
