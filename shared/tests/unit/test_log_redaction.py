"""No secret reaches the JSON log: secret-named fields, URL credentials and query strings are redacted,
and httpx's request lines (which would carry webhook addresses) are not written at all."""

from __future__ import annotations

import json
import logging

import httpx
import structlog

from baocao_shared.logging import REDACTED, configure_logging, redact_urls


def logged(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_secret_fields_and_url_credentials_are_redacted_and_the_rest_is_kept(capsys):
    configure_logging("test")
    structlog.get_logger("t").info(
        "delivery.sent",
        smtp_password="s3cr3t-smtp",
        access_token="eyJ.payload.signature",
        webhook_secret="whsec_abc",
        Authorization="Bearer xyz",
        token_id="tok_123",
        recipient="https://user:pw@hooks.example/services/T0/B0?token=t0ps3cret",
        attempts=2,
    )
    logging.getLogger("stdlib").warning("calling https://intake.example/v1/x?access_token=leaked now")
    first, second = logged(capsys)
    assert {first[k] for k in ("smtp_password", "access_token", "webhook_secret", "Authorization")} == {REDACTED}
    assert first["token_id"] == "tok_123" and first["attempts"] == 2 and first["event"] == "delivery.sent"
    assert first["recipient"] == f"https://hooks.example/services/T0/B0?{REDACTED}"
    assert second["event"] == f"calling https://intake.example/v1/x?{REDACTED} now"
    assert "leaked" not in json.dumps([first, second]) and "pw@" not in json.dumps(first)


def test_httpx_does_not_log_the_addresses_it_calls(capsys):
    configure_logging("test")
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    with httpx.Client(transport=transport) as client:
        client.post("https://hooks.example/services/T0/B0/XXXXSECRETPATH", json={})
    assert "XXXXSECRETPATH" not in capsys.readouterr().out


def test_plain_text_and_urls_without_credentials_are_unchanged():
    assert redact_urls("GET /v1/reports/30/2019-06 200") == "GET /v1/reports/30/2019-06 200"
    assert redact_urls("see http://127.0.0.1:8001/docs.") == "see http://127.0.0.1:8001/docs."
    assert redact_urls("db postgresql+asyncpg://baocao:pw@db:5432/intake") == "db postgresql+asyncpg://db:5432/intake"
