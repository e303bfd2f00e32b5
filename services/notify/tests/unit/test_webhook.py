"""The webhook channel without a network: which secret signs, what is sent, and when it counts as failed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from pydantic import SecretStr

from baocao_shared.clock import FixedClock
from baocao_shared.webhooks import InvalidSecret, WebhookVerifier, new_secret
from notify.adapters.channels import channels_for
from notify.adapters.webhook import WebhookChannel, WebhookNotDelivered, document, secret_for
from notify.config import Settings

NOW = datetime(2019, 6, 14, 1, 0, 5, tzinfo=UTC)
DEFAULT, HOOKS, HOOKS_SYT = new_secret(), new_secret(), new_secret()


def choose(url: str, *, default: str | None = DEFAULT) -> str | None:
    by_prefix = {"https://hooks.example.vn": SecretStr(HOOKS), "https://hooks.example.vn/syt/": SecretStr(HOOKS_SYT)}
    return secret_for(url, default=SecretStr(default) if default else None, by_prefix=by_prefix)


def test_the_longest_matching_prefix_signs():
    assert choose("https://hooks.example.vn/syt/inbox") == HOOKS_SYT
    assert choose("https://hooks.example.vn/stc") == HOOKS
    assert choose("https://hooks.example.vn") == HOOKS


def test_a_prefix_matches_only_on_a_boundary_and_otherwise_the_default_signs():
    assert choose("https://hooks.example.vn.attacker.test/syt/") == DEFAULT
    assert choose("https://hooks.example.vnx/a") == DEFAULT
    assert choose("https://other.example.vn/a") == DEFAULT
    assert choose("https://other.example.vn/a", default=None) is None


def delivery(url: str, **overrides):
    row = {
        "id": uuid.UUID("6f1c2a4e-0000-4000-8000-000000000001"),
        "cause_event_id": uuid.UUID("6f1c2a4e-0000-4000-8000-0000000000ee"),
        "cause_type": "vn.baocao.reminder.due.v1",
        "province": "96",
        "plan_id": "plan-96",
        "period": "2019-06",
        "unit": "SYT",
        "channel": "webhook",
        "recipient": url,
        "subject": "[Nhắc hạn] Báo cáo tháng 06/2019 của Sở Y tế",
        "body_text": "Kính gửi Sở Y tế,\nđề nghị gửi báo cáo tháng 06/2019.",
        "body_html": "<p>…</p>",
        "created_at": datetime(2019, 6, 14, 1, 0, tzinfo=UTC),
        "document_sha256": None,
        "document_filename": None,
    }
    return SimpleNamespace(**{**row, **overrides})


async def send(url: str, answer, *, settings: Settings | None = None) -> None:
    settings = settings or Settings(webhook_secret=DEFAULT)
    channel = WebhookChannel(settings, transport=httpx.MockTransport(answer), clock=FixedClock(NOW))
    await channel.send(None, delivery(url))


async def test_the_message_is_a_signed_json_post_that_the_receivers_verifier_accepts():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    await send("https://hooks.example.vn/syt", answer)
    [request] = seen
    assert request.method == "POST" and str(request.url) == "https://hooks.example.vn/syt"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "6f1c2a4e-0000-4000-8000-000000000001"
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    document = WebhookVerifier(DEFAULT, clock=FixedClock(NOW)).verify(request.content, request.headers)
    assert document == {
        "id": "6f1c2a4e-0000-4000-8000-000000000001",
        "type": "vn.baocao.reminder.due.v1",
        "cause_event_id": "6f1c2a4e-0000-4000-8000-0000000000ee",
        "province": "96",
        "plan_id": "plan-96",
        "period": "2019-06",
        "unit": "SYT",
        "subject": "[Nhắc hạn] Báo cáo tháng 06/2019 của Sở Y tế",
        "text": "Kính gửi Sở Y tế,\nđề nghị gửi báo cáo tháng 06/2019.",
        "occurred_at": "2019-06-14T01:00:00+00:00",
    }
    assert "Sở Y tế".encode() in request.content  # Vietnamese as UTF-8, not \\u escapes
    assert json.loads(request.content) == document


def test_a_published_reports_message_names_its_signed_pdf_and_others_do_not():
    sha256 = "a" * 64
    carrying = delivery("https://hooks.example.vn/stp", document_sha256=sha256, document_filename="3-BC.pdf")
    assert document(carrying)["document"] == {"filename": "3-BC.pdf", "sha256": sha256}
    assert "document" not in document(delivery("https://hooks.example.vn/stp"))


@pytest.mark.parametrize("status", [500, 404, 401, 302])
async def test_any_answer_but_2xx_fails_the_attempt_naming_the_status_and_url(status):
    redirect = {"location": "https://elsewhere.example/"} if status == 302 else {}
    with pytest.raises(WebhookNotDelivered, match=rf"^HTTP {status} from https://hooks.example.vn/…$"):
        await send("https://hooks.example.vn/syt", lambda request: httpx.Response(status, headers=redirect))


async def test_a_transport_error_fails_the_attempt_naming_the_url():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(WebhookNotDelivered) as failed:
        await send("https://hooks.example.vn/syt", refuse)
    assert str(failed.value) == "ConnectError from https://hooks.example.vn/…: Connection refused"


async def test_without_a_secret_for_the_url_nothing_is_sent_and_the_reason_says_what_to_set():
    seen = []
    settings = Settings(webhook_secrets={"https://hooks.example.vn/": HOOKS})
    with pytest.raises(WebhookNotDelivered) as failed:
        await send("https://other.example.vn/x", lambda r: seen.append(r) or httpx.Response(204), settings=settings)
    assert str(failed.value) == (
        "no webhook signing secret configured for https://other.example.vn/…: set BAOCAO_WEBHOOK_SECRET"
    )
    assert seen == []


@pytest.mark.parametrize("address", ["syt@example.vn", "ftp://hooks.example.vn/x", "https://", "http://:80/x"])
async def test_an_address_that_is_not_an_http_url_fails_the_attempt(address):
    with pytest.raises(WebhookNotDelivered, match="http\\(s\\) URL"):
        await send(address, lambda request: httpx.Response(204))


def test_the_sender_has_a_webhook_channel():
    assert isinstance(channels_for(Settings())["webhook"], WebhookChannel)


def test_a_malformed_secret_stops_the_settings_without_showing_it():
    with pytest.raises(InvalidSecret, match=r"BAOCAO_WEBHOOK_SECRETS\['https://a.example/'\]") as refused:
        Settings(webhook_secrets={"https://a.example/": "whsec_c2hvcnQ="})
    assert "c2hvcnQ" not in str(refused.value)
    with pytest.raises(InvalidSecret, match=r"^BAOCAO_WEBHOOK_SECRET: "):
        Settings(webhook_secret="hunter2")
