"""Hải Dương's merger into Hải Phòng through the API: the files load in an order that works, a reorganisation
with a problem is refused (422 at the file's line, nothing applied), units in force in a period, and a retired
unit's account refused its report (403 naming its successors)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.integration
PROVINCES = Path(__file__).resolve().parents[4] / "deploy" / "provinces"
HAI_DUONG = (PROVINCES / "30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_PHONG = (PROVINCES / "31-hai-phong.yaml").read_text(encoding="utf-8")
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
def intake_catalog():
    return SimpleNamespace(provinces=[], units=[], plans=[])


async def test_the_merger_through_the_api(intake):
    admin = {**await intake.headers_for("admin"), **YAML}
    put = intake.client.put

    alone = await put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)
    assert alone.status_code == 422, alone.text
    problem = next(p for p in alone.json()["error"]["details"] if p["path"] == "province.successors[0]")
    assert problem["line"] == next(i for i, t in enumerate(HAI_DUONG.splitlines(), 1) if "successors: [{kind" in t)
    assert (await intake.client.get("/v1/provinces", headers=admin)).json() == [], "nothing applied"

    assert (await put("/v1/admin/provinces/31", content=HAI_PHONG.encode(), headers=admin)).status_code == 200
    loaded = await put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)
    assert loaded.status_code == 200, loaded.text

    # A gap: Hải Phòng's communes a month late, while Hải Dương's committees end with 2025-06.
    late = HAI_PHONG.replace("valid_from: 2025-07", "valid_from: 2025-08")
    refused = await put("/v1/admin/provinces/31", content=late.encode(), headers=admin)
    assert refused.status_code == 422
    gaps = [p for p in refused.json()["error"]["details"] if p["type"] == "successor_gap"]
    assert gaps and all(p["line"] is None and p["path"].startswith("units[30.") for p in gaps), "30's, unlined"

    units = intake.client.get
    june = await units("/v1/units", params={"province": "30", "period": "2025-06"}, headers=admin)
    july = await units("/v1/units", params={"province": "30", "period": "2025-07"}, headers=admin)
    assert (len(june.json()), july.json()) == (29, [])
    assert len((await units("/v1/units", params={"province": "30"}, headers=admin)).json()) == 29
    hp = await units("/v1/units", params={"province": "31", "period": "2025-07"}, headers=admin)
    assert "UBND-P-HD" in [u["code"] for u in hp.json()]
    plans = await units("/v1/plans", params={"province": "31", "period": "2025-06"}, headers=admin)
    assert plans.json() == []

    reporter = await intake.headers_for("reporter", "30", "UBND-TPHD")
    body = {"plan_id": "hd-467-2019", "unit": "UBND-TPHD", "period": "2025-07", "values": {}}
    answer = await intake.client.post("/v1/submissions", json=body, headers=reporter)
    assert answer.status_code == 403, answer.text
    assert "đã chấm dứt từ kỳ 2025-07; báo cáo chuyển cho UBND phường Hải Dương (demo)" in answer.text
