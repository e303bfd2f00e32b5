"""The signed-in account's in-app inbox (hộp thư): its messages, newest first, and marking them read.

Any role has one. Reads and marks go through notify.handlers.inbox, the same use cases as
GET /v1/inbox and POST /v1/inbox/{id}/read; another account's message is not found.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from baocao_shared.principal import Role
from baocao_shared.web import local_time, redirect, render
from baocao_shared.web.csrf import CsrfForm
from baocao_shared.web.pages import PagePrincipal
from notify.deps import Uow, WallNow
from notify.handlers import inbox as use_cases
from notify.web.pages import TEMPLATES, explained, not_your_message
from notify.web.views import INBOX

router = APIRouter(include_in_schema=False)
SHOWN = 100  # the newest messages on the page


@dataclass(frozen=True)
class Message:
    id: str
    title: str
    body: str
    received: str
    read: str


@router.get(INBOX)
async def inbox_page(request: Request, principal: PagePrincipal, uow: Uow) -> Response:
    async with uow:
        found = await use_cases.inbox(uow, principal=principal, limit=SHOWN)
    tz = found.timezone
    messages = [
        Message(str(m.id), m.title, m.body, local_time(m.created_at, tz), local_time(m.read_at, tz))
        for m in found.messages
    ]
    context = {
        "title": "Hộp thư",
        "messages": messages,
        "unread": found.unread,
        "limited": len(found.messages) == SHOWN,
        "shown": SHOWN,
        "staff": principal.role is not Role.REPORTER,
    }
    return render(TEMPLATES, request, "inbox.html", context)


@router.post(INBOX + "/{message_id}/da-doc")
async def mark_read(
    request: Request, message_id: str, form: CsrfForm, principal: PagePrincipal, uow: Uow, now: WallNow
) -> Response:
    try:
        ident = uuid.UUID(message_id)
    except ValueError:
        raise not_your_message() from None
    with explained():
        async with uow:
            await use_cases.mark_read(uow, principal=principal, message_id=ident, now=now)
    return redirect(request, INBOX, flash="Đã đánh dấu thư là đã đọc.")


@router.post(INBOX + "/da-doc-het")
async def mark_all_read(request: Request, form: CsrfForm, principal: PagePrincipal, uow: Uow, now: WallNow) -> Response:
    async with uow:
        marked = await use_cases.mark_all_read(uow, principal=principal, now=now)
    flash = f"Đã đánh dấu {marked} thư là đã đọc." if marked else "Không còn thư nào chưa đọc."
    return redirect(request, INBOX, flash=flash)
