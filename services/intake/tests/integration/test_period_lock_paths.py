"""A period lock's address is checked like the catalogue spells it: a bad one is a 422, never a 500.

Found by tests/security/test_openapi_fuzz.py: PUT /v1/admin/locks/{province}/{plan_id}/{period} took any
text, and a province longer than period_locks' two characters failed in PostgreSQL with a 500.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.adapters import orm

pytestmark = pytest.mark.integration
REASON = {"reason": "Báo cáo tổng hợp đã phát hành"}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/admin/locks/301/hd-467-2019/2019-06", "province"),  # longer than the column holds
        ("/v1/admin/locks/3a/hd-467-2019/2019-06", "province"),
        ("/v1/admin/locks/30/" + "p" * 65 + "/2019-06", "plan_id"),
        ("/v1/admin/locks/30/HD 467/2019-06", "plan_id"),
        ("/v1/admin/locks/30/hd-467-2019/2019-06-01", "period"),  # longer than the column holds
        ("/v1/admin/locks/30/hd-467-2019/2019-13", "period"),
    ],
)
async def test_a_malformed_lock_address_is_refused_with_the_field_named(intake, path, field):
    admin = await intake.headers_for("admin")
    for method in ("PUT", "DELETE"):
        answer = await intake.client.request(method, path, json=REASON, headers=admin)
        assert answer.status_code == 422, (method, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "validation_failed"
        assert [d["loc"] for d in error["details"]] == [["path", field]]
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.period_locks)) == 0


async def test_a_well_formed_lock_address_still_locks_and_reopens(intake):
    admin = await intake.headers_for("admin")
    path = "/v1/admin/locks/30/hd-467-2019/2019-Q2"
    locked = await intake.client.put(path, json=REASON, headers=admin)
    assert locked.status_code == 200, locked.text
    assert locked.json() == {"province": "30", "plan_id": "hd-467-2019", "period": "2019-Q2", "locked": True}
    reopened = await intake.client.request("DELETE", path, json=REASON, headers=admin)
    assert reopened.status_code == 200 and reopened.json()["locked"] is False
