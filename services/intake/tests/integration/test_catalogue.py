"""The catalogue: loading a province file (YAML or JSON), its errors, and rebuilding it from the compacted topic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import CATALOG
from baocao_testing.kit import end_offsets, read_topic, wait_until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_PHONG = (REPO / "deploy/provinces/31-hai-phong.yaml").read_text(encoding="utf-8")
YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def intake_catalog():
    from types import SimpleNamespace

    from intake.domain.catalog import parse_province_file

    # Hải Phòng (DEMO DATA) stored: Hải Dương's file names its units as successors from 2025-07, and a load checks it.
    hai_phong = parse_province_file(HAI_PHONG)
    return SimpleNamespace(provinces=[hai_phong.province], units=hai_phong.units, plans=hai_phong.plans)


async def rebuilt_from_topic(bootstrap: str, province: str, since: dict[int, int]) -> dict[str, dict]:
    """What a brand-new consumer knows after reading baocao.catalog: the last record per key.

    The broker is shared by the whole test session, so records older than this test are left out."""
    latest: dict[str, dict] = {}
    for record in await read_topic(bootstrap, CATALOG, since=since):
        key = record.key.decode()
        if key.split(":", 1)[1].split(".")[0] == province:
            latest[key] = CloudEvent.from_bytes(record.value).data
    return latest


async def served(intake, headers) -> dict[str, dict]:
    """The catalogue as intake's API serves it, keyed like the topic."""
    client = intake.client
    found = (await client.get("/v1/provinces", headers=headers)).json()
    out = {f"province:{p['code']}": p for p in found if p["code"] == "30"}
    for u in (await client.get("/v1/units", params={"province": "30"}, headers=headers)).json():
        out[f"unit:30.{u['code']}"] = u
    for p in (await client.get("/v1/plans", params={"province": "30"}, headers=headers)).json():
        out[f"plan:30.{p['id']}"] = p
    return out


async def test_a_new_consumer_rebuilds_the_whole_catalogue_from_the_topic(intake, kafka):
    since = await end_offsets(kafka.bootstrap, CATALOG)
    admin = {**await intake.headers_for("admin"), **YAML}
    loaded = await intake.client.put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)
    assert loaded.status_code == 200, loaded.text
    assert len(loaded.json()["created"]) == 1 + 29 + 1

    expected = await served(intake, admin)
    assert len(expected) == 31

    async def rebuilt():
        found = await rebuilt_from_topic(kafka.bootstrap, "30", since)
        return found if found == expected else None

    await wait_until(rebuilt, timeout=20, what="the catalogue on the topic to equal the API's")

    # Loading the same file again publishes nothing; a renamed unit publishes that unit alone.
    again = await intake.client.put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)
    assert again.json()["created"] == again.json()["updated"] == [] and again.json()["unchanged"] == 31
    renamed = HAI_DUONG.replace("name: Sở Y tế", "name: Sở Y tế tỉnh Hải Dương").replace(
        "  - code: MTTQ\n", "  - code: MTTQ2\n"
    )
    changed = await intake.client.put("/v1/admin/provinces/30", content=renamed.encode(), headers=admin)
    assert changed.json()["updated"] == ["unit:SYT", "plan:hd-467-2019"]
    assert changed.json()["created"] == ["unit:MTTQ2"] and changed.json()["retired"] == ["unit:MTTQ"]

    async def rebuilt_again():
        # The four changes travel on several partitions, each readable as soon as its own record is there.
        found = await rebuilt_from_topic(kafka.bootstrap, "30", since)
        if not {"unit:30.SYT", "unit:30.MTTQ", "unit:30.MTTQ2", "plan:30.hd-467-2019"} <= set(found):
            return None
        now = (found["unit:30.SYT"]["name"], found["unit:30.MTTQ"]["active"], found["plan:30.hd-467-2019"]["units"])
        return found if now[0] == "Sở Y tế tỉnh Hải Dương" and now[1] is False and "MTTQ2" in now[2] else None

    found = await wait_until(rebuilt_again, timeout=20, what="the rename, the new unit and the plan to reach the topic")
    assert found["unit:30.MTTQ"]["active"] is False and found["unit:30.MTTQ2"]["active"] is True
    assert "MTTQ" not in found["plan:30.hd-467-2019"]["units"]
    assert [
        u["code"] for u in (await intake.client.get("/v1/units", params={"province": "30"}, headers=admin)).json()
    ].count("MTTQ") == 0


async def test_a_bad_province_file_changes_nothing_and_says_where(intake):
    admin = {**await intake.headers_for("admin"), **YAML}
    broken = HAI_DUONG.replace("code: BTG", "code: CA").replace("due_day: 16", "due_day: 40")
    answer = await intake.client.put("/v1/admin/provinces/30", content=broken.encode(), headers=admin)
    assert answer.status_code == 422
    problems = answer.json()["error"]["details"]
    assert {p["path"] for p in problems} == {"units[1].code", "plans[0].calendar.due_day"}
    assert all(isinstance(p["line"], int) for p in problems)
    assert [p["code"] for p in (await intake.client.get("/v1/provinces", headers=admin)).json()] == ["31"]
    wrong = await intake.client.put("/v1/admin/provinces/31", content=HAI_DUONG.encode(), headers=admin)
    assert wrong.status_code == 422


async def test_only_an_admin_loads_province_files(intake):
    admin = {**await intake.headers_for("admin"), **YAML}
    assert (await intake.client.put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=admin)).is_success
    for role, scope in (("province_operator", ("30",)), ("reporter", ("30", "CA")), ("national_operator", ())):
        headers = {**await intake.headers_for(role, *scope), **YAML}
        answer = await intake.client.put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=headers)
        assert answer.status_code == 403, role
    anonymous = await intake.client.put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers=YAML)
    assert anonymous.status_code == 401


def as_json(text: str) -> bytes:
    """The same province file as a JSON document (YAML's dates become ISO strings)."""
    return json.dumps(yaml.safe_load(text), ensure_ascii=False, default=str).encode()


async def test_the_province_file_loads_as_json_as_it_does_as_yaml(intake):
    admin = await intake.headers_for("admin")
    put = intake.client.put
    dry = await put("/v1/admin/provinces/30?dry_run=true", content=as_json(HAI_DUONG), headers={**admin, **JSON})
    assert dry.json() == {"province": "30", "valid": True, "units": 29, "plans": 1}
    loaded = await put("/v1/admin/provinces/30", content=as_json(HAI_DUONG), headers={**admin, **JSON})
    assert loaded.status_code == 200, loaded.text
    assert len(loaded.json()["created"]) == 1 + 29 + 1
    again = await put("/v1/admin/provinces/30", content=HAI_DUONG.encode(), headers={**admin, **YAML})
    assert again.json()["unchanged"] == 31 and again.json()["updated"] == [], "the same document either way"
    [plan] = (await intake.client.get("/v1/plans", params={"province": "30"}, headers=admin)).json()
    assert plan["issued_on"] == str(yaml.safe_load(HAI_DUONG)["plans"][0]["issued_on"])


async def test_a_bad_province_file_gets_the_same_problems_as_json_and_as_yaml(intake):
    admin = await intake.headers_for("admin")
    broken = HAI_DUONG.replace("code: BTG", "code: CA").replace("due_day: 16", "due_day: 40")
    answers = {
        media: await intake.client.put("/v1/admin/provinces/30", content=body, headers={**admin, **headers})
        for media, body, headers in (("yaml", broken.encode(), YAML), ("json", as_json(broken), JSON))
    }
    problems = {media: answer.json()["error"]["details"] for media, answer in answers.items()}
    assert {a.status_code for a in answers.values()} == {422}
    assert [(p["path"], p["message"]) for p in problems["json"]] == [
        (p["path"], p["message"]) for p in problems["yaml"]
    ]
    assert {p["path"] for p in problems["json"]} == {"units[1].code", "plans[0].calendar.due_day"}
    assert all(isinstance(p["line"], int) for p in problems["json"]), "a line in the JSON text, as in the YAML"
    wrong = await intake.client.put("/v1/admin/provinces/31", content=as_json(HAI_DUONG), headers={**admin, **JSON})
    assert wrong.status_code == 422 and "not 31" in wrong.json()["error"]["message"]
    not_json = await intake.client.put(
        "/v1/admin/provinces/30", content=b'{"province": NaN}', headers={**admin, **JSON}
    )
    assert not_json.status_code == 422 and "not valid JSON" in not_json.text
    assert [p["code"] for p in (await intake.client.get("/v1/provinces", headers=admin)).json()] == ["31"]


async def test_a_province_file_sent_as_any_other_type_is_read_as_yaml_as_before_json_was_taken(intake):
    """Clients that sent the file as plain text, x-yaml or curl's default form type keep working."""
    admin = await intake.headers_for("admin")
    for media in (
        "text/plain",
        "application/x-yaml",
        "application/x-www-form-urlencoded",
        "application/yaml; charset=utf-8",
        None,
    ):
        headers = {**admin, "Content-Type": media} if media else admin
        answer = await intake.client.put(
            "/v1/admin/provinces/30?dry_run=true", content=HAI_DUONG.encode(), headers=headers
        )
        assert answer.status_code == 200, (media, answer.text)
        assert answer.json()["valid"] is True
    broken = await intake.client.put(
        "/v1/admin/provinces/30?dry_run=true", content=b"province: [", headers={**admin, "Content-Type": "text/plain"}
    )
    assert broken.status_code == 422, broken.text
