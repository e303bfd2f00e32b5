"""Oversized, malformed, wrongly encoded and hostile input to intake's API, its province upload and its
forms: each gets a 4xx that says what is wrong (never a 500), and the report already accepted stays as it was.

Each test walks a table of cases on one running intake and reports every case that answered otherwise.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select

from baocao_testing.html import Page, csrf_of
from intake.adapters import orm
from intake.domain.catalog import parse_province_file

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
PROVINCE_FILE = (REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")
HAI_DUONG = parse_province_file(PROVINCE_FILE)
HAI_PHONG = parse_province_file((REPO / "deploy/provinces/31-hai-phong.yaml").read_text(encoding="utf-8"))
PLAN = HAI_DUONG.plans[0]
CODES = [i.code for t in PLAN.template.tasks for i in t.indicators]
FIGURES = {code: n for n, code in enumerate(CODES, start=1)}
JUNE = f"/bao-cao/{PLAN.id}/2019-06"
KIB = 1024
LIMIT = 256 * KIB
PASSWORD = "test-password-1"


@pytest.fixture
def intake_catalog():
    # With Hải Phòng (DEMO DATA), where Hải Dương's file says its reporting went from 2025-07: a load checks it.
    return SimpleNamespace(
        provinces=[HAI_DUONG.province, HAI_PHONG.province],
        units=[*HAI_DUONG.units, *HAI_PHONG.units],
        plans=[*HAI_DUONG.plans, *HAI_PHONG.plans],
    )


@pytest.fixture
def intake_settings_overrides():
    # 10 June 2019, 10:00 in Hải Dương: period 2019-06 is open and not yet due.
    return {"clock": "simulated", "clock_start": "2019-06-10T03:00:00Z", "clock_speed": 1}


def report(**changes) -> dict:
    body = {
        "plan_id": PLAN.id,
        "unit": "CA",
        "period": "2019-06",
        "values": dict(FIGURES),
        "narratives": {"T1": "Tổ chức 3 hội nghị quán triệt Chỉ thị 44.", "next_month": "Tiếp tục."},
    }
    return body | changes


def with_figure(value) -> dict:
    return report(values=FIGURES | {"t1_sessions": value})


def with_narrative(text: str) -> dict:
    return report(narratives={"T1": text})


def raw_json(body: dict) -> bytes:
    """JSON as Python writes it: NaN and Infinity bare, lone surrogates escaped."""
    return json.dumps(body, ensure_ascii=True, allow_nan=True).encode()


async def chunks(size: int, piece: int = 16 * KIB) -> AsyncIterator[bytes]:
    """A body sent with Transfer-Encoding: chunked, so without a Content-Length to refuse it by."""
    for _ in range(size // piece + 1):
        yield b" " * piece


@pytest.fixture
async def accepted(intake) -> SimpleNamespace:
    """Unit CA's report for June 2019, accepted before any hostile input arrives."""
    headers = await intake.headers_for("reporter", "30", "CA")
    answer = await intake.client.post("/v1/submissions", json=report(), headers=headers)
    assert answer.status_code == 201, answer.text
    return SimpleNamespace(id=answer.json()["id"], headers=headers)


async def assert_unchanged(intake, accepted) -> None:
    """The report accepted before is still the only one, at version 1, with the figures and words it had."""
    stored = await intake.client.get(f"/v1/submissions/{accepted.id}", headers=accepted.headers)
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert (body["version"], body["values"], body["narratives"]) == (1, FIGURES, report()["narratives"])
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.submissions)) == 1
        assert await db.scalar(select(func.count()).select_from(orm.submission_versions)) == 1


def mismatch(name: str, answer: httpx.Response, status: int, *words: str) -> str | None:
    """None when the answer has this status and says each of `words`; else what it did instead."""
    text = answer.text
    if answer.status_code == status and all(w in text for w in words):
        return None
    return f"{name}: expected {status} saying {words}, got {answer.status_code}: {text[:300]}"


def json_error(answer: httpx.Response) -> dict:
    return answer.json()["error"]


# --- the JSON API ----------------------------------------------------------------------------------


async def test_a_body_over_256_kib_gets_413_whether_or_not_it_declares_its_length(intake, accepted):
    h = accepted.headers | {"Content-Type": "application/json"}
    url = f"/v1/submissions/{accepted.id}"
    cases = {
        "declared": intake.client.post("/v1/submissions", content=b" " * (LIMIT + 1), headers=h),
        "chunked": intake.client.post("/v1/submissions", content=chunks(LIMIT + KIB), headers=h),
        "chunked amendment": intake.client.put(url, content=chunks(2 * LIMIT), headers=h),
        "1 MB narrative": intake.client.post("/v1/submissions", json=with_narrative("x" * 1_000_000), headers=h),
    }
    found = []
    for name, request in cases.items():
        answer = await request
        found.append(mismatch(name, answer, 413, "payload_too_large", "larger than the 256 KiB", "shorten it"))
    assert [f for f in found if f] == []
    await assert_unchanged(intake, accepted)


async def test_a_body_that_is_not_a_json_object_gets_415_or_422_saying_what_to_send(intake, accepted):
    h = accepted.headers
    as_json = h | {"Content-Type": "application/json"}
    good = json.dumps(report()).encode()
    post = intake.client.post
    cases = [
        ("malformed", post("/v1/submissions", content=b'{"plan_id": ', headers=as_json), 422, "not valid JSON"),
        ("a list", post("/v1/submissions", json=[report()], headers=h), 422, "must be a JSON object"),
        ("a string", post("/v1/submissions", json="report", headers=h), 422, "must be a JSON object"),
        ("text/plain", post("/v1/submissions", content=good, headers=h | {"Content-Type": "text/plain"}), 415,
         "Content-Type: application/json; it was sent as 'text/plain'"),
        ("no type", post("/v1/submissions", content=good, headers=h), 415, "without a Content-Type"),
        ("a form", post("/v1/submissions", data={"plan_id": PLAN.id}, headers=h), 415,
         "application/x-www-form-urlencoded"),
    ]  # fmt: skip
    found = [mismatch(name, await request, status, words) for name, request, status, words in cases]
    assert [f for f in found if f] == []
    await assert_unchanged(intake, accepted)


async def test_bytes_that_are_not_utf8_get_400_naming_the_byte(intake, accepted):
    as_json = accepted.headers | {"Content-Type": "application/json"}
    vietnamese = json.dumps(with_narrative("Hội nghị"), ensure_ascii=False)
    cases = {
        "latin-1": (vietnamese.replace("ộ", "o").encode("utf-8").replace(b"Ho", b"H\xe9", 1), "byte 0xE9"),
        "windows-1258": (vietnamese.encode("utf-8").replace("ộ".encode(), b"\xf4\xf2"), "byte 0xF4"),
        "UTF-16 with BOM": (vietnamese.encode("utf-16"), "UTF-16 byte order mark"),
    }
    found = []
    for name, (body, words) in cases.items():
        answer = await intake.client.post("/v1/submissions", content=body, headers=as_json)
        found.append(mismatch(name, answer, 400, "not_utf8", words, "Send it encoded as UTF-8"))
    assert [f for f in found if f] == []
    await assert_unchanged(intake, accepted)


async def test_hostile_values_get_4xx_naming_the_field_and_never_reach_the_database(intake, accepted):
    as_json = accepted.headers | {"Content-Type": "application/json"}
    amend = f"/v1/submissions/{accepted.id}"
    deep = b'{"values": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    huge_integer = raw_json(report()).replace(b'"t1_sessions": 1', b'"t1_sessions": ' + b"9" * 5000)
    # (name, method, url, body, status, words in the answer)
    cases = [
        ("JSON nested 100,000 deep", "POST", "/v1/submissions", deep, 400, "nested more than 32 levels"),
        ("a 5000-digit integer", "POST", "/v1/submissions", huge_integer, 400, "number_too_long"),
        ("10^30", "POST", "/v1/submissions", with_figure(10**30), 422, "figure_too_large"),
        ("a negative figure", "PUT", amend, with_figure(-3), 422, "negative_figure"),
        ("a float", "PUT", amend, with_figure(2.5), 422, "not_an_integer"),
        ("NaN", "PUT", amend, with_figure(float("nan")), 422, "not_an_integer"),
        ("Infinity", "PUT", amend, with_figure(float("inf")), 422, "not_an_integer"),
        ("a figure as text", "PUT", amend, with_figure("12"), 422, "not_an_integer"),
        ("NUL in a narrative", "PUT", amend, with_narrative("a\x00b"), 422, "body.narratives.T1 holds U+0000"),
        ("NUL in the unit", "POST", "/v1/submissions", report(unit="C\x00A"), 422, "body.unit holds U+0000"),
        ("NUL in the plan", "POST", "/v1/submissions", report(plan_id="hd\x00"), 422, "body.plan_id holds U+0000"),
        ("a lone surrogate", "PUT", amend, with_narrative("a\ud800b"), 422, "holds U+D800"),
        ("NUL after a BOM", "PUT", amend, b"\xef\xbb\xbf" + raw_json(with_narrative("\x00")), 422, "U+0000"),
        ("a surrogate in a key", "PUT", amend, report(narratives={"T\udc001": "x"}), 422, "U+DC00"),
        ("escape codes", "PUT", amend, with_narrative("a\x1b[31mđỏ"), 422, "ký tự điều khiển U+001B"),
        ("a bell", "PUT", amend, with_narrative("chuông\x07"), 422, "U+0007 (ở vị trí 7)"),
        ("RTL override", "PUT", amend, with_narrative("báo cáo\u202excod.exe"), 422, "U+202E"),
        ("SQL in the unit", "POST", "/v1/submissions", report(unit="CA' OR '1'='1"), 403, "not CA' OR"),
        ("SQL in the plan", "POST", "/v1/submissions", report(plan_id="x'; DROP TABLE submissions;--"), 422, "plan"),
        ("SQL in a narrative", "PUT", amend, with_narrative("'); DROP TABLE submissions;--\x00"), 422, "U+0000"),
        ("a 21,000-char narrative", "PUT", amend, with_narrative("x" * 21_000), 422, "narrative_too_long"),
    ]
    found = []
    for name, method, url, body, status, words in cases:
        content = body if isinstance(body, bytes) else raw_json(body)
        answer = await intake.client.request(method, url, content=content, headers=as_json)
        found.append(mismatch(name, answer, status, words))
    assert [f for f in found if f] == []
    await assert_unchanged(intake, accepted)


async def test_hostile_addresses_get_4xx_and_read_nothing_else(intake, accepted):
    h = accepted.headers
    cases = [
        ("traversal, encoded", "/v1/submissions/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
        ("traversal", "/v1/submissions/../../etc/passwd", 404, "not_found"),
        ("NUL in the path", "/v1/submissions/%00", 400, "NUL character (%00)"),
        ("NUL in the query", "/v1/submissions?unit=C%00A", 400, "NUL character (%00)"),
        ("not UTF-8 in the path", "/v1/submissions/%ff%fe", 422, "valid UUID"),
        ("SQL in the query", "/v1/submissions?province=30' OR '1'='1", 422, "province"),
        ("SQL in a unit", "/v1/submissions?unit=CA'%20OR%20'1'%3D'1", 403, "only its own unit"),
        ("NUL in a province code", "/v1/units?province=3%000", 400, "NUL character"),
    ]
    found = [mismatch(name, await intake.client.get(url, headers=h), status, w) for name, url, status, w in cases]
    assert [f for f in found if f] == []
    await assert_unchanged(intake, accepted)


# --- the province file (PUT /v1/admin/provinces/{code}, YAML) -------------------------------------

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
)


async def test_hostile_province_files_get_422_and_change_nothing(intake):
    admin = await intake.headers_for("admin")
    yaml_headers = admin | {"Content-Type": "application/yaml"}
    name = "name: Hải Dương"
    bomb_in_a_field = PROVINCE_FILE.replace("province:\n", BILLION_LAUGHS + "\nprovince:\n", 1).replace(
        "  place_name: Hải Dương", "  place_name: *i", 1
    )
    cases = [
        ("billion laughs", BILLION_LAUGHS.encode(), 422, "more than 100,000 values once its aliases"),
        ("billion laughs in a field", bomb_in_a_field.encode(), 422, "more than 100,000 values"),
        ("!!python/object/apply", b'!!python/object/apply:os.system ["touch /tmp/pwned"]\n', 422,
         "could not determine a constructor for the tag"),
        ("!!python/object in a field", PROVINCE_FILE.replace("province:", "province: !!python/object:x.Y", 1).encode(),
         422, "could not determine a constructor"),
        ("over 256 KiB", PROVINCE_FILE.encode() + b"#" * LIMIT, 413, "larger than the 256 KiB"),
        ("latin-1", PROVINCE_FILE.replace("ả", "a").encode().replace(b"Hai", b"H\xe0i", 1), 400, "not_utf8"),
        ("UTF-16", PROVINCE_FILE.encode("utf-16"), 400, "UTF-16 byte order mark"),
        ("a raw NUL", PROVINCE_FILE.replace("Hải Dương", "Hải\x00Dương", 1).encode(), 422, "#x0000"),
        ("an escaped NUL", PROVINCE_FILE.replace(name, 'name: "Hải\\0Dương"', 1).encode(), 422,
         '"path":"province.name","line":10,"message":"holds U+0000'),
        ("an escaped surrogate", PROVINCE_FILE.replace(name, 'name: "H\\ud800"', 1).encode(), 422, "holds U+D800"),
        ("[ nested 100,000 deep", b"[" * 100_000, 422, "nested more than 20 levels deep"),
        ("[{ nested 30 deep", b"province: " + b"[{a: " * 15 + b"}]" * 15, 422, "nested more than 20 levels deep"),
        ("- nested 100,000 deep", b"- " * 100_000 + b"x", 422, "nested too deeply to read"),
        ("a 5000-digit integer", PROVINCE_FILE.replace("cutoff_day: 15", "cutoff_day: " + "9" * 5000, 1).encode(),
         422, "Exceeds the limit (4300 digits)"),
        ("sent as JSON", PROVINCE_FILE.encode(), 422, "not valid JSON"),
    ]  # fmt: skip
    found = []
    for case, body, status, words in cases:
        headers = admin | {"Content-Type": "application/json"} if case == "sent as JSON" else yaml_headers
        answer = await intake.client.put("/v1/admin/provinces/30", content=body, headers=headers)
        found.append(mismatch(case, answer, status, words))
    traversal = await intake.client.put("/v1/admin/provinces/..%2F30", content=PROVINCE_FILE, headers=yaml_headers)
    found.append(mismatch("traversal", traversal, 404, "not_found"))
    assert [f for f in found if f] == []
    provinces = (await intake.client.get("/v1/provinces", headers=admin)).json()
    hai_duong = [(p["code"], p["name"], p["place_name"]) for p in provinces if p["code"] == "30"]
    assert hai_duong == [("30", "Hải Dương", "Hải Dương")]
    plans = (await intake.client.get("/v1/plans?province=30", headers=admin)).json()
    assert [p["calendar"]["cutoff_day"] for p in plans] == [15]


# --- the forms --------------------------------------------------------------------------------------


async def signed_in(intake) -> httpx.AsyncClient:
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    form = await intake.client.get("/dang-nhap")
    answer = await intake.client.post(
        "/dang-nhap", data={"csrf_token": csrf_of(form), "username": "30-CA", "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.text
    return intake.client


def urlencoded(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_hostile_report_forms_get_a_4xx_page_in_vietnamese_and_change_nothing(intake, accepted):
    client = await signed_in(intake)
    page = Page.of((await client.get(JUNE)).text)
    fields = page.form_data()  # the amendment form of the accepted report, with its token
    assert fields["base_version"] == "1"
    good = urlencoded(fields)
    cases = [
        ("no CSRF token", urlencoded(fields | {"csrf_token": ""}), FORM, 403, "thiếu mã bảo vệ"),
        ("a stranger's token", urlencoded(fields | {"csrf_token": "x" * 43}), FORM, 403, "thiếu mã bảo vệ"),
        ("over 256 KiB", urlencoded(fields | {"n.T1": "ư" * (LIMIT // 4)}), FORM, 413,
         "Biểu mẫu quá lớn (quá 256 KiB)"),
        ("latin-1 (%E9)", good + b"&n.T2=caf%E9", FORM, 400, "không phải mã UTF-8"),
        ("raw latin-1 bytes", good + b"&n.T2=caf\xe9", FORM, 400, "không phải mã UTF-8"),
        ("an encoded surrogate", good + b"&n.T2=%ED%A0%80", FORM, 400, "không phải mã UTF-8"),
        ("NUL", good + b"&n.T2=a%00b", FORM, 400, "có ký tự U+0000 không hợp lệ"),
        ("sent as JSON", json.dumps(fields).encode(), {"Content-Type": "application/json"}, 415,
         "không phải dữ liệu biểu mẫu"),
        ("sent as text", good, {"Content-Type": "text/plain"}, 415, "không phải dữ liệu biểu mẫu"),
        ("escape codes", urlencoded(fields | {"n.T1": "a\x1b[2Jb"}), FORM, 422, "ký tự điều khiển U+001B"),
        ("RTL override", urlencoded(fields | {"n.T1": "abc\u202edef"}), FORM, 422, "U+202E"),
        ("a negative figure", urlencoded(fields | {"v.t1_sessions": "-5"}), FORM, 422, "Số liệu"),
        ("a huge figure", urlencoded(fields | {"v.t1_sessions": "9" * 5000}), FORM, 422, "Số liệu"),
        ("a float", urlencoded(fields | {"v.t1_sessions": "1.5"}), FORM, 422, "Số liệu phải là số nguyên"),
        ("NaN", urlencoded(fields | {"v.t1_sessions": "NaN"}), FORM, 422, "Số liệu phải là số nguyên"),
    ]  # fmt: skip
    found = []
    for name, body, headers, status, words in cases:
        answer = await client.post(JUNE, content=body, headers=headers)
        found.append(mismatch(name, answer, status, words, "<html"))
    traversal = await client.get("/bao-cao/..%5C..%5Cetc%5Cpasswd/2019-06")
    found.append(mismatch("traversal in the plan", traversal, 404, "Không tìm thấy"))
    assert [f for f in found if f] == []
    await assert_unchanged(intake, accepted)
    # ... and the form still works: the same fields, posted as the page gave them, make version 2.
    answer = await client.post(JUNE, content=good, headers=FORM)
    assert answer.status_code == 303, answer.text


async def test_hostile_sign_ins_get_a_4xx_page_in_vietnamese(intake):
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    form = await intake.client.get("/dang-nhap")
    token = csrf_of(form)
    good = {"csrf_token": token, "username": "30-CA", "password": PASSWORD}
    cases = [
        ("no CSRF token", urlencoded(good | {"csrf_token": ""}), 403, "thiếu mã bảo vệ"),
        ("NUL in the name", urlencoded(good | {"username": "30-CA\x00' OR 1=1"}), 400, "U+0000"),
        ("a name over 256 KiB", urlencoded(good | {"username": "a" * (LIMIT + 1)}), 413, "Biểu mẫu quá lớn"),
        ("latin-1 password", urlencoded(good).replace(b"password=", b"password=m%E1t", 1), 400, "mã UTF-8"),
        ("SQL in the name", urlencoded(good | {"username": "' OR '1'='1' --"}), 401, "không đúng"),
        ("a long name", urlencoded(good | {"username": "ư" * 10_000}), 401, "không đúng"),
    ]
    found = []
    for name, body, status, words in cases:
        answer = await intake.client.post("/dang-nhap", content=body, headers=FORM)
        found.append(mismatch(name, answer, status, words, "<html"))
    assert [f for f in found if f] == []
    assert (await intake.client.post("/dang-nhap", content=urlencoded(good), headers=FORM)).status_code == 303


async def test_a_second_content_type_header_hides_no_body_from_the_checks(intake, accepted):
    """FastAPI reads the first Content-Type: the checks read the same one, so a second header naming another
    type does not let a NUL through to PostgreSQL (it was a 500)."""
    headers = [*accepted.headers.items(), ("Content-Type", "application/json"),
               ("Content-Type", "application/octet-stream")]  # fmt: skip
    answer = await intake.client.post("/v1/submissions", content=raw_json(report(plan_id="hd\x00")), headers=headers)
    assert mismatch("two Content-Types", answer, 422, "body.plan_id holds U+0000") is None, answer.text
    await assert_unchanged(intake, accepted)
