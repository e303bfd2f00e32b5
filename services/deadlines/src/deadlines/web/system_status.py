"""The operators' system status (tình trạng hệ thống): what each service says about itself, in Vietnamese.

Every service is asked in parallel, with the signed-in user's token: `/readyz`, and `/v1/ops/pipeline`
(baocao_shared.ops). deadlines, which draws the page, asks itself in-process. Each call is bounded:
a service that does not answer in time is shown as not responding, and the page is drawn anyway.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from fastapi import Request
from pydantic import ValidationError

from baocao_shared import ops
from baocao_shared.web import SERVICES

HEALTH_TIMEOUT_S = 3.0
# A service answers within ops.TIMEOUT_S for Kafka (then with kafka_error), plus as long again for
# reading its replay log; past that it shows as not responding.
PIPELINE_TIMEOUT_S = 2 * ops.TIMEOUT_S + 2
CHECKS = {"database": "Cơ sở dữ liệu", "kafka": "Kafka"}


@dataclass(frozen=True)
class Health:
    symbol: str  # so that colour is not the only cue
    label: str
    css: str  # the status badge of baocao.css
    detail: str = ""


READY = Health("✓", "Sẵn sàng", "done")
NO_ADDRESS = Health("–", "Chưa có địa chỉ", "open", "BAOCAO_SERVICE_URLS không có địa chỉ của dịch vụ này.")


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    label: str
    health: Health
    pipeline: ops.PipelineStatus | None
    problem: str = ""  # why there are no figures

    @property
    def lag(self) -> int | None:
        lags = [g.lag for g in self.pipeline.consumers] if self.pipeline else [None]
        return None if None in lags else sum(lags)

    @property
    def dead_letters(self) -> int | None:
        counts = [q.records for q in self.pipeline.dead_letters] if self.pipeline else [None]
        return None if None in counts else sum(counts)

    @property
    def waiting(self) -> int:
        """Listed dead letters nobody has replayed yet (replayed ones stay on the topic, and in its count)."""
        queues = self.pipeline.dead_letters if self.pipeline else []
        return sum(1 for q in queues for d in q.latest if d.replayed_at is None)


@dataclass(frozen=True)
class TopicLag:
    """One row of a group's lag table: a topic, its partitions side by side."""

    topic: str
    partitions: list[ops.PartitionLag]

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)


def topic_rows(group: ops.GroupLag) -> list[TopicLag]:
    topics = dict.fromkeys(p.topic for p in group.partitions)
    return [TopicLag(t, [p for p in group.partitions if p.topic == t]) for t in topics]


def duration(seconds: float | None) -> str:
    """'45 giây', '12 phút', '3 giờ 5 phút', '2 ngày 4 giờ'."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "ngày"), (hours, "giờ"), (minutes, "phút")] if seconds >= 60 else [(secs, "giây")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 giây"


def error_message(letter: ops.DeadLetter) -> str:
    """The error without its class, which the page shows apart: 'x.y.RuntimeError: gone' -> 'gone'."""
    text = letter.error or ""
    head, sep, rest = text.partition(": ")
    return rest if sep and head.rsplit(".", 1)[-1] == letter.error_type else text


def check_text(value: str) -> str:
    if value == "ok":
        return "tốt"
    if value == "connecting":
        return "đang kết nối"
    if value.startswith("unreachable"):
        return "không kết nối được" + (f" ({value.split(':', 1)[1].strip()})" if ":" in value else "")
    return value


def _client(request: Request, service: str) -> httpx.AsyncClient | None:
    """A client for one service: this one through its own app, the others at their service_urls."""
    settings = request.app.state.runtime.settings
    if service == settings.service_name:
        # An error in our own pipeline answer shows as a 500 on this service's card, not on the whole page.
        transport = httpx.ASGITransport(app=request.app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://self")
    url = settings.service_urls.get(service)
    return httpx.AsyncClient(base_url=url, timeout=PIPELINE_TIMEOUT_S) if url else None


async def _health(client: httpx.AsyncClient) -> Health:
    try:
        answer = await asyncio.wait_for(client.get("/readyz"), HEALTH_TIMEOUT_S)
    except (httpx.HTTPError, TimeoutError):
        return Health("✗", "Không phản hồi", "overdue", f"Không nhận được trả lời trong {HEALTH_TIMEOUT_S:.0f} giây.")
    if answer.status_code == 200:
        return READY
    try:
        checks = answer.json().get("checks", {})
    except ValueError:
        checks = {}
    bad = [f"{CHECKS.get(k, k)}: {check_text(v)}" for k, v in checks.items() if v != "ok"]
    return Health("!", "Chưa sẵn sàng", "locked", "; ".join(bad) or f"Trả lời HTTP {answer.status_code}.")


async def _pipeline(client: httpx.AsyncClient, token: str) -> ops.PipelineStatus | str:
    """The service's figures, or why they are missing."""
    try:
        answer = await asyncio.wait_for(
            client.get("/v1/ops/pipeline", headers={"Authorization": f"Bearer {token}"}), PIPELINE_TIMEOUT_S
        )
    except (httpx.HTTPError, TimeoutError):
        return "Không đọc được số liệu: dịch vụ không phản hồi."
    if answer.status_code in (401, 403):
        return "Không đọc được số liệu: dịch vụ không chấp nhận phiên đăng nhập này."
    try:
        answer.raise_for_status()
        return ops.PipelineStatus.model_validate(answer.json())
    except (httpx.HTTPError, ValueError, ValidationError):
        return f"Không đọc được số liệu: dịch vụ trả lời HTTP {answer.status_code}."


async def _status(request: Request, service: str, label: str, token: str) -> ServiceStatus:
    client = _client(request, service)
    if client is None:
        return ServiceStatus(service, label, NO_ADDRESS, None, "Không có địa chỉ để hỏi.")
    async with client:
        health, pipeline = await asyncio.gather(_health(client), _pipeline(client, token))
    if isinstance(pipeline, str):
        return ServiceStatus(service, label, health, None, pipeline)
    return ServiceStatus(service, label, health, pipeline)


async def load_statuses(request: Request, token: str) -> list[ServiceStatus]:
    """Every service of the navigation, in its order, asked all at once."""
    return list(await asyncio.gather(*(_status(request, s, label, token) for s, label in SERVICES)))


def service_label(service: str) -> str | None:
    return dict(SERVICES).get(service)


async def replay(request: Request, *, service: str, group: str, partition: int, offset: int, token: str) -> str:
    """Ask a service to replay one dead letter; the answer as a sentence for the flash message."""
    label = service_label(service) or service
    where = f"(nhóm {group}, phân vùng {partition}, vị trí {offset})"
    client = _client(request, service)
    if client is None:
        return f"Chưa phát lại được: không có địa chỉ của dịch vụ {label}."
    try:
        async with client:
            answer = await asyncio.wait_for(
                client.post(
                    f"/v1/ops/dlq/{quote(group, safe='')}/replay",
                    json={"partition": partition, "offset": offset},
                    headers={"Authorization": f"Bearer {token}"},
                ),
                PIPELINE_TIMEOUT_S,
            )
    except (httpx.HTTPError, TimeoutError):
        return f"Chưa phát lại được: dịch vụ {label} không phản hồi. Vui lòng thử lại sau."
    if answer.status_code == 202:
        topic = answer.json().get("origin_topic", "")
        return (
            f"Đã phát lại bản ghi lỗi {where} về chủ đề {topic}. Nhóm bị lỗi sẽ xử lý lại bản ghi; "
            "các nhóm đã xử lý sẽ bỏ qua."
        )
    if answer.status_code == 409:
        return f"Bản ghi {where} đã được phát lại trước đó nên không gửi lại lần nữa."
    if answer.status_code == 404:
        return f"Không tìm thấy bản ghi lỗi {where}: có thể Kafka đã xoá do hết hạn lưu."
    if answer.status_code in (401, 403):
        return "Chưa phát lại được: chỉ quản trị viên mới được phát lại bản ghi lỗi."
    if answer.status_code == 503:
        return f"Chưa phát lại được: dịch vụ {label} chưa kết nối được Kafka. Vui lòng thử lại sau."
    return f"Chưa phát lại được: dịch vụ {label} trả lời HTTP {answer.status_code}."
