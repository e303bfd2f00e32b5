"""The local stack's mail sink: an SMTP server that keeps every mail, and a page to read them.

notify sends its email to 127.0.0.1:<BAOCAO_SMTP_SINK_PORT> (port base + 25) under `make up`. Nothing
goes further: aiosmtpd's Mailbox handler stores each message in a Maildir ($BAOCAO_HOME/mail, readable
with any mail client), and "Hộp thư thử nghiệm" at http://127.0.0.1:<port base + 5> lists them, newest
first. One process, one event loop: uvicorn serves the page and its lifespan runs the SMTP server, so
SIGTERM stops both cleanly.

    BAOCAO_HTTP_PORT=8005 BAOCAO_SMTP_SINK_PORT=8025 BAOCAO_MAIL_DIR=.local/mail python -m baocao_stack.mailsink

A mail's HTML part is never inlined: it is served on its own URL under a CSP `sandbox` without
scripts, and shown in an `<iframe sandbox>`.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import mailbox
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from baocao_shared.clock import Clock, SimulatedClock
from baocao_shared.logging import get_logger
from baocao_shared.service import serve
from baocao_shared.settings import ServiceSettings
from baocao_shared.web import mount_static, render, templates_for

from .paths import DEFAULT_HOME, repo_relative

TEMPLATES = Path(__file__).resolve().parent / "templates"
RECEIVED = "X-Baocao-Received"  # the real instant the sink accepted the mail
SIMULATED = "X-Baocao-Simulated-Time"  # the simulated clock's instant then, under `make up MONTH=1`
REFRESH_S = 10  # the list reloads itself (an HTTP Refresh header: no JavaScript)
# The HTML part of a mail: a sandbox (no scripts, no forms, an opaque origin), no fetches but inline
# styles and data: images, framed only by the sink's own pages.
HTML_PART_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
log = get_logger(__name__)
_KIND = re.compile(r"^\[([^\]]{1,40})\]")  # notify's subjects start with their kind: "[Nhắc hạn] ..."


class SinkSettings(ServiceSettings):
    """BAOCAO_HTTP_PORT (the page), BAOCAO_SMTP_SINK_PORT, BAOCAO_MAIL_DIR; the clock as every service's."""

    service_name: str = "mailsink"
    http_port: int = 8005
    smtp_sink_port: int = 8025
    mail_dir: Path = DEFAULT_HOME / "mail"


class StampedMailbox(Mailbox):
    """aiosmtpd's Maildir handler; each mail also records when it arrived, on both clocks."""

    def __init__(self, mail_dir: Path, clock: Clock) -> None:
        super().__init__(mail_dir)
        self.clock = clock

    def prepare_message(self, session, envelope):
        message = super().prepare_message(session, envelope)
        message[RECEIVED] = datetime.now(UTC).isoformat()
        if isinstance(self.clock, SimulatedClock):
            message[SIMULATED] = self.clock.now().isoformat()
        subject = str(make_header(decode_header(message["Subject"] or "")))
        log.info("mailsink.stored", to=envelope.rcpt_tos, subject=subject)
        return message


# ------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class MailSummary:
    key: str
    received: datetime | None
    simulated: datetime | None
    to: str
    subject: str

    @property
    def href(self) -> str:
        return f"/thu/{quote(self.key, safe='')}"

    @property
    def kind(self) -> str | None:
        match = _KIND.match(self.subject)
        return match.group(1) if match else None


def _instant(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def list_mails(mail_dir: Path) -> list[MailSummary]:
    """Every mail in the Maildir, newest first (headers only)."""
    box = mailbox.Maildir(mail_dir, factory=None, create=True)
    parser = BytesHeaderParser(policy=email.policy.default)
    found = []
    for key in box.keys():
        try:
            with box.get_file(key) as f:
                headers = parser.parse(f)
        except (KeyError, FileNotFoundError):
            continue  # moved or removed since the folder was listed
        found.append(
            MailSummary(
                key=key,
                received=_instant(headers[RECEIVED]),
                simulated=_instant(headers[SIMULATED]),
                to=str(headers["To"] or headers["X-RcptTo"] or ""),
                subject=str(headers["Subject"] or ""),
            )
        )
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda mail: (mail.received or oldest, mail.key), reverse=True)


def read_mail(mail_dir: Path, key: str) -> EmailMessage | None:
    """One mail, parsed whole; None when the folder has no such key."""
    box = mailbox.Maildir(mail_dir, factory=None, create=True)
    try:
        with box.get_file(key) as f:
            return BytesParser(policy=email.policy.default).parse(f)
    except (KeyError, FileNotFoundError):
        return None


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else None


def kinds(mails: list[MailSummary]) -> list[tuple[str, int]]:
    """How many mails of each kind (the bracketed start of the subject), most first."""
    return Counter(mail.kind for mail in mails if mail.kind).most_common()


# ----------------------------------------------------------------------------------------- app


async def smtp_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """The SMTP port accepts a connection and greets with 220."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    try:
        greeting = await asyncio.wait_for(reader.readline(), timeout)
        writer.write(b"QUIT\r\n")
        await writer.drain()
        return greeting.startswith(b"220")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()


def create_app(settings: SinkSettings | None = None) -> FastAPI:
    settings = settings or SinkSettings()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    clock = settings.build_clock()
    mail_dir = settings.mail_dir
    templates = templates_for(TEMPLATES)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        handler = StampedMailbox(mail_dir, clock)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="mailsink.baocao.local", loop=loop),
            host=settings.http_host,
            port=settings.smtp_sink_port,
        )
        try:
            yield
        finally:
            server.close()
            await server.wait_closed()

    app = FastAPI(title="Baocao mail sink", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = SimpleNamespace(settings=settings)  # what the shared layout reads: name, service URLs
    mount_static(app)  # /static/baocao.css, the look of every Baocao page
    shown_folder = repo_relative(mail_dir)
    smtp_address = f"{settings.http_host}:{settings.smtp_sink_port}"

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        if await smtp_answers(settings.http_host, settings.smtp_sink_port):
            return PlainTextResponse("ready")
        return PlainTextResponse(f"SMTP on {smtp_address} does not answer", status_code=503)

    @app.get("/")
    async def inbox(request: Request) -> Response:
        mails = await asyncio.to_thread(list_mails, mail_dir)
        context = {
            "title": "Hộp thư thử nghiệm",
            "mails": mails,
            "kinds": kinds(mails),
            "simulated": any(mail.simulated for mail in mails),
            "smtp": smtp_address,
            "folder": shown_folder,
            "refresh_s": REFRESH_S,
        }
        return render(templates, request, "hop_thu.html", context, headers={"Refresh": str(REFRESH_S)})

    def not_found(request: Request, message: str) -> Response:
        context = {"title": "Không tìm thấy thư", "message": message, "back_label": "Về hộp thư thử nghiệm"}
        return render(templates, request, "error.html", context, status_code=404)

    @app.get("/thu/{key}")
    async def one_mail(request: Request, key: str) -> Response:
        message = await asyncio.to_thread(read_mail, mail_dir, key)
        if message is None:
            return not_found(request, "Hộp thư thử nghiệm không có thư này.")
        context = {
            "title": str(message["Subject"] or "(không có tiêu đề)"),
            "message": message,
            "received": _instant(message[RECEIVED]),
            "simulated_at": _instant(message[SIMULATED]),
            "headers": [(name, str(value)) for name, value in message.items()],
            "text": _part(message, "plain"),
            "html": _part(message, "html"),
            "html_href": f"/thu/{quote(key, safe='')}/html",
        }
        return render(templates, request, "thu.html", context)

    @app.get("/thu/{key}/html")
    async def html_part(request: Request, key: str) -> Response:
        message = await asyncio.to_thread(read_mail, mail_dir, key)
        html = _part(message, "html") if message is not None else None
        if html is None:
            return not_found(request, "Thư này không có phần HTML.")
        return Response(html, media_type="text/html; charset=utf-8", headers=HTML_PART_HEADERS)

    return app


def main() -> None:
    serve(create_app, SinkSettings())


if __name__ == "__main__":
    main()
