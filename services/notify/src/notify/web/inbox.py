"""The signed-in account's in-app inbox (hộp thư): its messages, newest first, and marking them read.

Any role has one. Reads and marks go through notify.handlers.inbox, the same use cases as
GET /v1/inbox and POST /v1/inbox/{id}/read; another account's message is not found.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from baocao_shared.errors import NotFound
from baocao_shared.http.deps import Db
from baocao_shared.principal import Role
from baocao_shared.web import local_time, redirect, render
from baocao_shared.web.csrf import CsrfForm
from baocao_shared.web.pages import PageError, PagePrincipal
from notify.api.routes import Now
from notify.handlers import inbox as use_cases
from notify.web.pages import TEMPLATES, place
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
async def inbox_page(request: Request, principal: PagePrincipal, db: Db) -> Response:
    async with db.begin():
        rows = await use_cases.messages(db, recipient=principal.subject, limit=SHOWN)
        unread = await use_cases.count_unread(db, recipient=principal.subject)
        timezone = (await place(db, principal.province)).timezone
    messages = [
        Message(str(r.id), r.title, r.body, local_time(r.created_at, timezone), local_time(r.read_at, timezone))
        for r in rows
    ]
    context = {
        "title": "Hộp thư",
        "messages": messages,
        "unread": unread,
        "limited": len(rows) == SHOWN,
        "shown": SHOWN,
        "staff": principal.role is not Role.REPORTER,
    }
    return render(TEMPLATES, request, "inbox.html", context)


@router.post(INBOX + "/{message_id}/da-doc")
async def mark_read(
    request: Request, message_id: str, form: CsrfForm, principal: PagePrincipal, db: Db, now: Now
) -> Response:
    not_found = PageError(
        404, "Không tìm thấy thư", "Hộp thư của bạn không có thư này.", back_url=INBOX, back_label="Về hộp thư"
    )
    try:
        ident = uuid.UUID(message_id)
    except ValueError:
        raise not_found from None
    try:
        async with db.begin():
            await use_cases.mark_read(db, recipient=principal.subject, message_id=ident, now=now)
    except NotFound:
        raise not_found from None
    return redirect(request, INBOX, flash="Đã đánh dấu thư là đã đọc.")


@router.post(INBOX + "/da-doc-het")
async def mark_all_read(request: Request, form: CsrfForm, principal: PagePrincipal, db: Db, now: Now) -> Response:
    async with db.begin():
        marked = await use_cases.mark_all_read(db, recipient=principal.subject, now=now)
    flash = f"Đã đánh dấu {marked} thư là đã đọc." if marked else "Không còn thư nào chưa đọc."
    return redirect(request, INBOX, flash=flash)
