"""The mail sink as `make up` runs it: a process with SMTP and a page on free loopback ports."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from baocao_stack.ports import free_ports
from baocao_stack.settings import StackSettings
from baocao_testing.html import Page

pytestmark = pytest.mark.stack

SUBJECT = "[Nhắc hạn] Báo cáo tháng 12/2026 của Công an tỉnh: hạn 00:00 ngày 16/12/2026"
BODY = "Kính gửi: Công an tỉnh,\n\nHạn gửi báo cáo tháng 12/2026 là 00:00 ngày 16/12/2026."
HOSTILE_HTML = "<p>Đề nghị <b>gửi báo cáo</b></p><script>document.title = 'pwned'</script>"


@pytest.fixture
def sink(tmp_path):
    """`python -m baocao_stack.mailsink` with the environment the stack gives it; stopped with SIGTERM."""
    smtp_port, http_port = free_ports(2)
    settings = StackSettings(home=tmp_path, smtp_sink_port_setting=smtp_port, port_base=http_port - 5)
    log = (tmp_path / "mailsink.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "baocao_stack.mailsink"],
        env={**os.environ, **settings.mailsink_env()},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90  # imports are slow on a busy machine
        while True:
            assert proc.poll() is None, (tmp_path / "mailsink.log").read_text()
            try:
                if httpx.get(f"{settings.mail_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the mail sink did not answer /readyz"
            time.sleep(0.2)
        yield settings, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        log.close()


def _mail(to: str, subject: str, html: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Baocao <khong-tra-loi@baocao.local>"
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(BODY)
    if html:
        mail.add_alternative(html, subtype="html")
    return mail


async def test_a_mail_sent_over_smtp_is_kept_and_shown_in_vietnamese(sink):
    settings, proc = sink
    send = {"hostname": "127.0.0.1", "port": settings.smtp_sink_port}
    await aiosmtplib.send(_mail("vanthu.btg@haiduong.baocao.test", "[Quá hạn] Ban Tuyên giáo chưa gửi"), **send)
    await asyncio.sleep(0.05)  # two distinct arrival instants: the newest comes first
    await aiosmtplib.send(_mail("vanthu.ca@haiduong.baocao.test", SUBJECT, HOSTILE_HTML), **send)

    stored = list((settings.mail_dir / "new").iterdir())
    assert len(stored) == 2  # a Maildir any mail client reads

    async with httpx.AsyncClient(base_url=settings.mail_url) as client:
        listing = await client.get("/")
        assert listing.status_code == 200
        page = Page.of(listing.text)
        assert "Hộp thư thử nghiệm" in listing.text
        assert page.text("so-thu") == "2 thư: Nhắc hạn 1 · Quá hạn 1"  # kinds by count, then newest
        links = [a["href"] for a in page.all("a") if a.get("href", "").startswith("/thu/")]
        assert len(links) == 2
        newest = listing.text.index(SUBJECT)
        assert newest < listing.text.index("[Quá hạn] Ban Tuyên giáo chưa gửi")
        assert "vanthu.ca@haiduong.baocao.test" in listing.text
        assert page.one("link", rel="stylesheet")["href"] == "/static/baocao.css"
        assert (await client.get("/static/baocao.css")).status_code == 200

        shown = await client.get(links[0])
        assert shown.status_code == 200
        mail_page = Page.of(shown.text)
        assert SUBJECT in mail_page.text("tieu-de-thu")
        assert "Hạn gửi báo cáo tháng 12/2026 là 00:00 ngày 16/12/2026." in mail_page.text("noi-dung-van-ban")

        # The HTML part never runs a script: not inlined, framed in a sandbox, served under a sandbox CSP.
        assert "<script>" not in shown.text
        assert "&lt;script&gt;" in shown.text  # its source, escaped
        page_csp = shown.headers["content-security-policy"]
        assert "default-src 'self'" in page_csp and "unsafe-inline" not in page_csp
        frame = mail_page.one("iframe")
        assert "sandbox" in frame and frame["sandbox"] == ""  # no allow-scripts, no allow-same-origin
        html = await client.get(frame["src"])
        assert html.status_code == 200 and "<b>gửi báo cáo</b>" in html.text
        html_csp = html.headers["content-security-policy"]
        assert html_csp.startswith("sandbox;") and "default-src 'none'" in html_csp
        assert "script-src" not in html_csp and "allow-scripts" not in html_csp
        assert html.headers["x-content-type-options"] == "nosniff"

        assert (await client.get("/thu/no-such-mail")).status_code == 404
        assert (await client.get(f"{links[1]}/html")).status_code == 404  # that one is plain text only

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    log = (settings.home / "mailsink.log").read_text()
    assert "Application shutdown complete." in log  # the lifespan closed the SMTP server
    assert "Traceback" not in log
