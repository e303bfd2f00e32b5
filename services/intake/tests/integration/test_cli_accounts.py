"""`baocao-intake accounts create`: the first admin of a production deployment, who can then sign in.

Demo seeding is refused when BAOCAO_ENV=production, and the accounts API needs an admin. Before this
command existed, a production deployment (deploy/k8s) had no way to get its first account.
"""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

pytestmark = pytest.mark.integration


async def run_cli(database_url: str, *args: str, password: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_") and k != "DATABASE_URL"}
    env |= {"BAOCAO_DATABASE_URL": database_url, "BAOCAO_ENV": "production"}
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "intake.cli", "accounts", "create", *args,
        env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(cli.communicate(f"{password}\n".encode()), timeout=120)
    return cli.returncode, output.decode()


async def test_the_first_admin_is_created_in_production_and_signs_in(intake):
    code, output = await run_cli(
        intake.settings.database_url, "root-admin", "--role", "admin", password="a-long-secret-1"
    )
    assert code == 0, output
    assert "created account root-admin (admin)" in output

    token = await intake.client.post("/v1/auth/token", data={"username": "root-admin", "password": "a-long-secret-1"})
    assert token.status_code == 200, token.text
    me = await intake.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["role"] == "admin"

    code, output = await run_cli(
        intake.settings.database_url, "root-admin", "--role", "admin", password="another-one-2"
    )
    assert code == 2 and "refused: The username root-admin is taken." in output
    wrong = await intake.client.post("/v1/auth/token", data={"username": "root-admin", "password": "another-one-2"})
    assert wrong.status_code == 401, "the second run changed nothing"


async def test_an_invalid_account_is_refused_with_its_reasons(intake):
    code, output = await run_cli(
        intake.settings.database_url, "op-99", "--role", "province_operator", "--province", "99", password="short"
    )
    assert code == 2, output
    assert "refused: The account is not valid." in output
    assert "password: at least" in output
    answer = await intake.client.post("/v1/auth/token", data={"username": "op-99", "password": "short"})
    assert answer.status_code == 401
