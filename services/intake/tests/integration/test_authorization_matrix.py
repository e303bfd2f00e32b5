"""Every intake route (API, pages, forms, ops) x every actor: who gets in, who gets 403, 404 or the sign-in page.

The rows are checked against the app's routes: a route added without a row fails `test_every_route_has_a_row`.
An allowed answer is also read for what it shows: a unit's reports reach only those who may read that unit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from baocao_testing.authz import (
    ADMIN_ONLY,
    EVERYONE,
    PROVINCE_OPERATORS,
    PROVINCE_STAFF,
    PUBLIC_ROUTES,
    Row,
    assert_covers,
    assert_matrix,
    only,
    ops_rows,
)
from baocao_testing.samples import regime_file
from intake.config import Settings
from intake.domain.catalog import parse_province_file
from intake.main import create_app

pytestmark = [pytest.mark.integration, pytest.mark.hai_duong_in_june]
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
ENTERERS = only("reporter own unit", "operator own province", "admin")
OFFICES = only("operator own province", "operator other province")
OWN_OFFICE = {**OFFICES, "operator other province": 404}
REPORTERS = only("reporter own unit", "reporter other unit", "reporter other province")
UNIT_TOKEN_MANAGERS = only("reporter own unit", "operator own province", "admin")
READERS_OF_UNIT = only("reporter own unit", "operator own province", "national", "admin")
READERS_OF_PROVINCE = {**READERS_OF_UNIT, "reporter other unit": "allowed"}  # ... who sees only its own unit
# Signing in and the public key are for everyone.
PUBLIC = PUBLIC_ROUTES | {
    ("POST", "/v1/auth/token"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/dang-nhap"),
    ("POST", "/dang-nhap"),
    ("POST", "/dang-xuat"),
}


def readers_of_ca(submission_id: str):
    """The report of 30/CA is in an allowed answer exactly when the caller may read unit 30/CA."""

    def check(actor: str, answer) -> str | None:
        shown = submission_id in answer.text
        if shown and READERS_OF_UNIT[actor] != "allowed":
            return "shows the report of unit 30/CA"
        if not shown and READERS_OF_UNIT[actor] == "allowed":
            return "misses the report of unit 30/CA"
        return None

    return check


CONTACT_READERS = ("operator own province", "national", "admin")  # ... and a unit's own reporter, its unit's
UNITS_WITH_CONTACTS = {u.code for u in HAI_DUONG.units if u.contacts}


def contacts_scoped(actor: str, answer) -> str | None:
    """Mailboxes and webhook endpoints of province 30 reach its staff, the national office, admins, and a unit's
    own reporter for that unit; everyone else reads the catalogue without them."""
    role, province, unit = ACTORS[actor]
    for item in answer.json():
        if "contacts" in item:
            code, shown, has = item["code"], bool(item["contacts"]), item["code"] in UNITS_WITH_CONTACTS
            may = actor in CONTACT_READERS or (role == "reporter" and (province, unit) == ("30", code))
        elif item["code"] == "30":
            code, shown, has = "the staff office", bool(item["operator_contacts"]), True
            may = actor in CONTACT_READERS
        else:
            continue
        if shown != (may and has):
            return f"contacts of {code} {'shown' if shown else 'missing'}"
    return None


def audit_of_30(submission_id: str):
    """An allowed answer of GET /v1/audit?province=30 holds province 30's rows only, the submission's among them."""

    def check(actor: str, answer) -> str | None:
        items = answer.json()["items"]
        if others := {r["province"] for r in items} - {"30"}:
            return f"shows audit rows of province(s) {sorted(others, key=str)}"
        if f"submission:{submission_id}" not in {r["subject"] for r in items}:
            return "misses the submission of unit 30/CA"
        return None

    return check


def page_shows_30(submission_id: str):
    def check(actor: str, answer) -> str | None:
        shown, may = f"submission:{submission_id}" in answer.text, actor != "operator other province"
        return None if shown == may else f"{'shows' if shown else 'misses'} the audit of unit 30/CA's report"

    return check


def rows(submission_id: str, token_id: str) -> list[Row]:
    report = {"plan_id": PLAN.id, "unit": "CA", "period": "2019-06", "values": FIGURES}
    lock = f"/v1/admin/locks/30/{PLAN.id}/2019-05"
    locks = "/v1/admin/locks/{province}/{plan_id}/{period}"
    tokens = "/v1/units/{province}/{unit}/api-tokens"
    period = "/v1/periods/{province}/{period}"
    form, scoped = f"/bao-cao/{PLAN.id}/2019-06", readers_of_ca(submission_id)
    office = "/bao-cao/nhap-ho"
    form_of_ca = f"{office}/CA/{PLAN.id}/2019-06"
    yaml = {"content": FILE.encode(), "headers": {"Content-Type": "application/yaml"}}
    account = {"username": "x-1", "password": "mật-khẩu-đủ-dài", "role": "admin"}
    return [
        Row("GET", "/v1/auth/me", EVERYONE),
        Row("GET", "/v1/provinces", EVERYONE, scope=contacts_scoped),
        Row("GET", "/v1/units", EVERYONE, url="/v1/units?province=30", scope=contacts_scoped),
        Row("GET", "/v1/plans", EVERYONE, url="/v1/plans?province=30"),
        # The unit itself, or its province's office on its behalf (an admin too): a 409 here, June is submitted.
        Row("POST", "/v1/submissions", ENTERERS, kwargs={"json": report}),
        Row("PUT", "/v1/submissions/{submission_id}", ENTERERS, url=f"/v1/submissions/{submission_id}",
            kwargs={"json": {"values": FIGURES}}),
        Row("GET", "/v1/submissions/{submission_id}", READERS_OF_UNIT, url=f"/v1/submissions/{submission_id}"),
        Row("GET", "/v1/submissions", READERS_OF_PROVINCE, url="/v1/submissions?province=30", scope=scoped),
        Row("GET", "/v1/submissions", EVERYONE, scope=scoped),
        Row("GET", tokens, UNIT_TOKEN_MANAGERS, url="/v1/units/30/CA/api-tokens"),
        Row("POST", tokens, UNIT_TOKEN_MANAGERS, url="/v1/units/30/CA/api-tokens",
            kwargs={"json": {"label": "phần mềm của đơn vị"}}),
        Row("DELETE", tokens + "/{token_id}", UNIT_TOKEN_MANAGERS, url=f"/v1/units/30/CA/api-tokens/{token_id}"),
        Row("PUT", "/v1/admin/provinces/{code}", ADMIN_ONLY, url="/v1/admin/provinces/30", kwargs=yaml),
        Row("GET", "/v1/regimes", EVERYONE),
        Row("PUT", "/v1/admin/regimes/{regime_id}", ADMIN_ONLY, url="/v1/admin/regimes/nhan-quyen",
            kwargs={"content": regime_file().encode(), "headers": {"Content-Type": "application/yaml"}}),
        Row("PUT", locks, ADMIN_ONLY, url=lock, kwargs={"json": {"reason": "kiểm thử"}}),
        Row("DELETE", locks, ADMIN_ONLY, url=lock, kwargs={"json": {"reason": "kiểm thử"}}),
        Row("GET", "/v1/periods/{province}", EVERYONE, url="/v1/periods/30"),
        Row("GET", period, EVERYONE, url=f"/v1/periods/30/2019-06?plan_id={PLAN.id}"),
        # The province's office acts on its periods (a 409 here: June is open, not closed, not history).
        Row("POST", period + "/exceptions", PROVINCE_OPERATORS, url="/v1/periods/30/2019-06/exceptions",
            kwargs={"json": {"unit": "CA", "reason": "kiểm thử"}}),
        Row("GET", period + "/exceptions", PROVINCE_STAFF, url="/v1/periods/30/2019-06/exceptions"),
        Row("DELETE", period + "/exceptions/{unit}", PROVINCE_OPERATORS, url="/v1/periods/30/2019-06/exceptions/CA"),
        Row("POST", period + "/imports", PROVINCE_OPERATORS, url="/v1/periods/30/2019-06/imports",
            kwargs={"json": {"unit": "CA", "values": FIGURES}}),
        Row("PUT", "/v1/plans/{province}/{plan_id}/tracking", PROVINCE_OPERATORS,
            url=f"/v1/plans/30/{PLAN.id}/tracking", kwargs={"json": {"from": "2019-06"}}),
        Row("POST", "/v1/admin/accounts", ADMIN_ONLY, kwargs={"json": account}),
        Row("PUT", "/v1/admin/accounts/{username}/password", ADMIN_ONLY, url="/v1/admin/accounts/x-1/password",
            kwargs={"json": {"password": "mật-khẩu-mới-đủ-dài"}}),
        Row("POST", "/v1/admin/accounts/{username}/deactivate", ADMIN_ONLY, url="/v1/admin/accounts/x-1/deactivate"),
        Row("POST", "/v1/admin/accounts/{username}/reactivate", ADMIN_ONLY, url="/v1/admin/accounts/x-1/reactivate"),
        Row("POST", "/v1/admin/demo-accounts", ADMIN_ONLY),
        Row("GET", "/v1/audit", PROVINCE_STAFF, url="/v1/audit?province=30", scope=audit_of_30(submission_id)),
        # Without a province: a province operator is asked to name theirs; reporters are still refused.
        Row("GET", "/v1/audit", {**PROVINCE_STAFF, "operator own province": 422, "operator other province": 422}),
        *ops_rows(),
        Row("GET", "/", EVERYONE, page=True),
        # Every operator reads the Nhật ký page, of their own province: 30/CA's report only those who read 30.
        Row("GET", "/nhat-ky", only("operator own province", "operator other province", "national", "admin"),
            page=True, scope=page_shows_30(submission_id)),
        Row("GET", "/bao-cao/{plan_id}/{period}", REPORTERS, url=form, page=True),
        Row("POST", "/bao-cao/{plan_id}/{period}", REPORTERS, url=form, page=True),
        Row("GET", "/bao-cao/{plan_id}/{period}/lich-su", REPORTERS, url=form + "/lich-su", page=True),
        # Nhập hộ: a province's office, for a unit of its own province (01 has a unit CA, but no plan 467: 404).
        Row("GET", "/bao-cao/nhap-ho", OFFICES, page=True),
        Row("GET", "/bao-cao/nhap-ho", OFFICES, url="/bao-cao/nhap-ho?don_vi=CA", page=True,
            scope=lambda actor, answer: None if (form_of_ca in answer.text) == (actor == "operator own province")
            else "links to unit 30/CA's form wrongly"),
        Row("GET", office + "/{unit}/{plan_id}/{period}", OWN_OFFICE, url=form_of_ca, page=True),
        Row("POST", office + "/{unit}/{plan_id}/{period}", OWN_OFFICE, url=form_of_ca, page=True),
        Row("GET", office + "/{unit}/{plan_id}/{period}/lich-su", OWN_OFFICE, url=form_of_ca + "/lich-su", page=True),
        # Another unit's receipt is not found rather than forbidden: its existence is not shown either.
        Row("GET", "/bien-nhan/{submission_id}", {**READERS_OF_UNIT, **{a: 404 for a in (
            "reporter other unit", "reporter other province", "operator other province")}},
            url=f"/bien-nhan/{submission_id}", page=True, scope=scoped),
    ]  # fmt: skip


def test_the_catalogue_file_has_contacts_to_hide():
    assert HAI_DUONG.province.operator_contacts and {"CA", "BTG"} <= UNITS_WITH_CONTACTS


def test_every_route_has_a_row(tmp_path):
    app = create_app(Settings(database_url="postgresql+asyncpg://u@127.0.0.1/x", home=tmp_path))
    assert_covers(app, rows("id", "token"), public=PUBLIC)


async def test_authorization_matrix(intake):
    own = await intake.headers_for("reporter", "30", "CA")
    created = await intake.client.post(
        "/v1/submissions", json={"plan_id": PLAN.id, "unit": "CA", "period": "2019-06", "values": FIGURES}, headers=own
    )
    assert created.status_code == 201, created.text
    token = await intake.client.post("/v1/units/30/CA/api-tokens", json={"label": "sẽ thu hồi"}, headers=own)
    assert token.status_code == 201, token.text
    tokens = {name: (await intake.token_for(*actor) if actor else None) for name, actor in ACTORS.items()}

    matrix = rows(created.json()["id"], token.json()["id"])
    await assert_matrix(intake.app, matrix, tokens, login="/dang-nhap", base_url="http://intake.test")
