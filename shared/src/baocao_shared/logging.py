"""structlog JSON logs carrying service, event_id, correlation_id and province; never a secret.

Fields named like a secret (password, token, secret, authorization, cookie, key) are logged as "[redacted]",
and so are the query string and the user:password@ of any URL in an event (a link's or a webhook's
address may carry its token there). httpx logs only warnings: its "HTTP Request: POST <url>" line would
write every webhook address, whose path is itself a secret for many receivers, into the log.
"""

from __future__ import annotations

import logging
import re
import sys

import structlog

REDACTED = "[redacted]"
# A field whose name ends in one of these words: smtp_password, access_token, webhook_secret, ... (not token_id).
SECRET_FIELD = re.compile(
    r"^(.*_)?(password|passwd|secret|token|authorization|cookie|api_?key|private_?key|credentials?)$", re.I
)
_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://)(?:[^/\s\"'@]*@)?([^/\s\"'?#]+)([^\s\"'?#]*)(\?[^\s\"'#]*)?")


def redact_secrets(_logger, _name, event_dict: dict) -> dict:
    """A structlog processor: secret-named fields, and the credentials and query of URLs, stay out of the log."""
    for key, value in event_dict.items():
        if key != "event" and SECRET_FIELD.match(key) and value is not None:
            event_dict[key] = REDACTED
        elif isinstance(value, str) and "://" in value:
            event_dict[key] = redact_urls(value)
    return event_dict


def redact_urls(text: str) -> str:
    """https://user:pw@host/a/b?c=d -> https://host/a/b?[redacted]."""
    return _URL.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + ("?" + REDACTED if m.group(4) else ""), text)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route structlog and stdlib logging to one JSON line per event on stdout."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            _add_service(service),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # No line per request (serve() runs uvicorn with access_log=False). uvicorn decides per connection by
    # whether "uvicorn.access" has a handler, and one propagating to the root handler has: this runs again
    # in every service's start-up, after uvicorn set it up, so it must keep the logger cut off itself.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False


def _add_service(service: str):
    def processor(_logger, _name, event_dict):
        event_dict.setdefault("service", service)
        return event_dict

    return processor


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
