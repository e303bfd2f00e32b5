"""National regimes as data (issue 18, part 3) through intake's API and CLI: a regime file loads and is published on
baocao.catalog; a plan indicator that maps to nothing in its regime, a plan naming an unknown regime, and a regime
that would strand a stored plan's indicator are each a 422 (exit 2 for the CLI) naming the line, nothing applied."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import CATALOG
from baocao_testing.kit import end_offsets, read_topic, wait_until
from baocao_testing.samples import regime_file, without_the_national_regime

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_PHONG = (REPO / "deploy/provinces/31-hai-phong.yaml").read_text(encoding="utf-8")
NHAN_QUYEN = regime_file()
YAML = {"Content-Type": "application/yaml"}
REBUTTALS = '          - {code: bai_phan_bac, label: "Bài phản bác thông tin sai lệch", unit: "bài"}\n'


def line_of(text: str, fragment: str, start: int = 0) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if i > start and fragment in line)


@pytest.fixture
def intake_catalog():
    from types import SimpleNamespace

    from intake.domain.catalog import parse_province_file

    # Hải Phòng stored (Hải Dương's successors) in no regime, and no regime at all: each test loads what it needs.
    hai_phong = parse_province_file(without_the_national_regime(HAI_PHONG))
    return SimpleNamespace(provinces=[hai_phong.province], units=hai_phong.units, plans=hai_phong.plans, regimes=[])


async def test_a_regime_loads_is_published_and_listed_then_the_plans_naming_it_load(intake, kafka):
    since = await end_offsets(kafka.bootstrap, CATALOG)
    admin = {**await intake.headers_for("admin"), **YAML}
    put = intake.client.put

    orphan = await put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)
    assert orphan.status_code == 422, "its plan names a regime nobody loaded"
    [problem] = orphan.json()["error"]["details"]
    assert (problem["path"], problem["line"]) == ("plans[0].national.regime", line_of(HAI_DUONG, "regime: nhan-quyen"))
    assert "nhan-quyen" in problem["message"]

    loaded = await put("/v1/admin/regimes/nhan-quyen", content=NHAN_QUYEN.encode(), headers=admin)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["created"] == ["regime:nhan-quyen"]
    listed = await intake.client.get("/v1/regimes", headers=await intake.headers_for("reporter", "31", "CA"))
    assert [(r["id"], r["issued_by"]) for r in listed.json()] == [
        ("nhan-quyen", "Văn phòng Thường trực Ban Chỉ đạo Nhân quyền của Chính phủ")
    ]
    assert (await put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)).status_code == 200

    async def on_topic():
        records = await read_topic(kafka.bootstrap, CATALOG, since=since)
        return [CloudEvent.from_bytes(r.value) for r in records if r.key == b"regime:nhan-quyen"]

    [event] = await wait_until(on_topic, timeout=30, what="the regime on baocao.catalog")
    assert event.type == "vn.baocao.regime.upserted.v1" and event.data["id"] == "nhan-quyen"
    plans = (await intake.client.get("/v1/plans", params={"province": "30"}, headers=admin)).json()
    assert plans[0]["national"]["indicators"]["t5_rebuttals"] == "bai_phan_bac"


async def test_a_plan_indicator_that_maps_to_nothing_is_a_422_naming_its_line(intake):
    admin = {**await intake.headers_for("admin"), **YAML}
    loaded = await intake.client.put("/v1/admin/regimes/nhan-quyen", content=NHAN_QUYEN.encode(), headers=admin)
    assert loaded.is_success
    wrong = HAI_DUONG.replace("t5_rebuttals: bai_phan_bac", "t5_rebuttals: bai_bac_bo")
    answer = await intake.client.put("/v1/admin/provinces/30", content=wrong.encode(), headers=admin)  # a real load
    assert answer.status_code == 422
    [problem] = answer.json()["error"]["details"]
    assert problem["path"] == "plans[0].template.tasks[4].indicators[1]"
    assert problem["line"] == line_of(wrong, "{code: t5_rebuttals")
    assert "t5_rebuttals" in problem["message"] and "nhan-quyen" in problem["message"]
    plans = await intake.client.get("/v1/plans", params={"province": "30"}, headers=admin)
    assert plans.status_code == 404, "nothing of the file was loaded: not its province, not its plans"


async def test_a_regime_that_would_strand_a_stored_plan_s_indicator_is_a_422(intake):
    admin = {**await intake.headers_for("admin"), **YAML}
    put = intake.client.put
    assert (await put("/v1/admin/regimes/nhan-quyen", content=NHAN_QUYEN.encode(), headers=admin)).is_success
    assert (await put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)).is_success

    fewer = NHAN_QUYEN.replace(REBUTTALS, "")
    answer = await put("/v1/admin/regimes/nhan-quyen", content=fewer.encode(), headers=admin)
    assert answer.status_code == 422
    [problem] = answer.json()["error"]["details"]
    assert (problem["path"], problem["line"]) == ("regime.template", line_of(fewer, "    tasks:"))
    assert "30.hd-467-2019" in problem["message"] and "bai_phan_bac" in problem["message"]
    [stored] = (await intake.client.get("/v1/regimes", headers=admin)).json()
    assert "bai_phan_bac" in {i["code"] for task in stored["template"]["tasks"] for i in task["indicators"]}

    elsewhere = await put("/v1/admin/regimes/phap-luat", content=NHAN_QUYEN.encode(), headers=admin)
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["details"][0]["path"] == "regime.id"


async def test_catalog_load_takes_regime_files_with_province_files_and_refuses_an_unmapped_indicator(fresh_database):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_") and k != "DATABASE_URL"}
    env |= {"BAOCAO_DATABASE_URL": fresh_database, "BAOCAO_ENV": "test"}

    async def cli(*args: str | Path) -> tuple[int, str]:
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "intake.cli", "catalog", *map(str, args), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(run.communicate(), timeout=120)
        return run.returncode, output.decode()

    provinces = [REPO / "deploy/provinces/30-hai-duong.yaml", REPO / "deploy/provinces/31-hai-phong.yaml"]
    code, output = await cli("load", *provinces)
    assert code == 2, output
    assert f"line {line_of(HAI_DUONG, 'regime: nhan-quyen')}: plans[0].national.regime" in output

    code, output = await cli("validate", REPO / "deploy/national/nhan-quyen.yaml")
    assert code == 0 and "national regime nhan-quyen" in output, output
    code, output = await cli("load", *provinces, REPO / "deploy/national/nhan-quyen.yaml")  # in any order
    assert code == 0, output
    assert "regime nhan-quyen: 1 created" in output and "province 30:" in output
