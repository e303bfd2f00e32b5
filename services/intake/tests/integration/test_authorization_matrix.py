"""Every intake endpoint x every role x own / other unit / other province: who gets in, who gets 403 or 401."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from baocao_shared.events.catalog import ProvinceV1, UnitV1
from intake.domain.catalog import parse_province_file

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
FILE = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_DUONG = parse_province_file(FILE)
PLAN = HAI_DUONG.plans[0]
FIGURES = {i.code: 1 for t in PLAN.template.tasks for i in t.indicators}

ACTORS = {
    "anonymous": None,
    "reporter own unit": ("reporter", "30", "CA"),
    "reporter other unit": ("reporter", "30", "BTG"),
    "reporter other province": ("reporter", "01", "CA"),
    "operator own province": ("province_operator", "30", None),
    "operator other province": ("province_operator", "01", None),
    "national": ("national_operator", None, None),
    "admin": ("admin", None, None),
}
OK, DENIED, ANON = "allowed", 403, 401
EVERYONE = {a: OK for a in ACTORS if a != "anonymous"}
ADMIN_ONLY = {a: (OK if a == "admin" else DENIED) for a in ACTORS if a != "anonymous"}
OWN_UNIT_ONLY = {a: (OK if a == "reporter own unit" else DENIED) for a in ACTORS if a != "anonymous"}
UNIT_TOKEN_MANAGERS = {**OWN_UNIT_ONLY, "operator own province": OK, "admin": OK}
READERS_OF_UNIT = {**OWN_UNIT_ONLY, "operator own province": OK, "national": OK, "admin": OK}
READERS_OF_PROVINCE = {**READERS_OF_UNIT, "reporter other unit": OK}


@pytest.fixture
def intake_catalog():
    hanoi = ProvinceV1(code="01", name="Hà Nội", issuing_body="BCĐ HÀ NỘI", place_name="Hà Nội")
    return SimpleNamespace(
        provinces=[HAI_DUONG.province, hanoi],
        units=[*HAI_DUONG.units, UnitV1(province="01", code="CA", name="CA Hà Nội", kind="member")],
        plans=HAI_DUONG.plans,
    )


@pytest.fixture
def intake_settings_overrides():
    return {"clock": "simulated", "clock_start": "2019-06-10T03:00:00Z", "clock_speed": 1}


def endpoints(submission_id: str) -> list[tuple[str, str, dict, dict]]:
    report = {"plan_id": PLAN.id, "unit": "CA", "period": "2019-06", "values": FIGURES}
    lock = f"/v1/admin/locks/30/{PLAN.id}/2019-05"
    return [
        ("GET", "/v1/auth/me", {}, EVERYONE),
        ("GET", "/v1/provinces", {}, EVERYONE),
        ("GET", "/v1/units?province=30", {}, EVERYONE),
        ("GET", "/v1/plans?province=30", {}, EVERYONE),
        ("POST", "/v1/submissions", {"json": report}, OWN_UNIT_ONLY),
        ("PUT", f"/v1/submissions/{submission_id}", {"json": {"values": FIGURES}}, OWN_UNIT_ONLY),
        ("GET", f"/v1/submissions/{submission_id}", {}, READERS_OF_UNIT),
        ("GET", "/v1/submissions?province=30", {}, READERS_OF_PROVINCE),
        ("GET", "/v1/units/30/CA/api-tokens", {}, UNIT_TOKEN_MANAGERS),
        ("POST", "/v1/units/30/CA/api-tokens", {"json": {"label": "phần mềm của đơn vị"}}, UNIT_TOKEN_MANAGERS),
        (
            "PUT",
            "/v1/admin/provinces/30",
            {"content": FILE.encode(), "headers": {"Content-Type": "application/yaml"}},
            ADMIN_ONLY,
        ),
        ("PUT", lock, {"json": {"reason": "kiểm thử"}}, ADMIN_ONLY),
        ("DELETE", lock, {"json": {"reason": "kiểm thử"}}, ADMIN_ONLY),
        (
            "POST",
            "/v1/admin/accounts",
            {"json": {"username": "x-1", "password": "mật-khẩu-đủ-dài", "role": "admin"}},
            ADMIN_ONLY,
        ),
        ("POST", "/v1/admin/demo-accounts", {}, ADMIN_ONLY),
    ]


async def test_authorization_matrix(intake):
    own = await intake.headers_for("reporter", "30", "CA")
    created = await intake.client.post(
        "/v1/submissions", json={"plan_id": PLAN.id, "unit": "CA", "period": "2019-06", "values": FIGURES}, headers=own
    )
    assert created.status_code == 201, created.text
    headers = {name: (await intake.headers_for(*actor) if actor else {}) for name, actor in ACTORS.items()}

    mismatches = []
    for method, url, kwargs, expected in endpoints(created.json()["id"]):
        for actor in ACTORS:
            want = ANON if actor == "anonymous" else expected[actor]
            extra = kwargs.get("headers", {})
            answer = await intake.client.request(method, url, **{**kwargs, "headers": {**headers[actor], **extra}})
            got = answer.status_code
            allowed = got not in (401, 403) and got < 500
            if (want == OK and not allowed) or (want != OK and got != want):
                mismatches.append(f"{method} {url} as {actor}: expected {want}, got {got} {answer.text[:120]}")
    assert not mismatches, "\n".join(mismatches)
