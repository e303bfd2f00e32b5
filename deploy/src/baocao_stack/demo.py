"""The demo in a fresh stack: the province files and the demo accounts, then "How to try it".

`up` runs intake's admin CLI (`baocao-intake catalog load`, `accounts seed-demo`) as subprocesses
with intake's own environment, once every service is ready. Both are idempotent: a second run
changes nothing and says so.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.markup import escape

from .month import DemoMonth, describe, real_month, simulated_reached
from .paths import DEPLOY_DIR, REPO_ROOT, repo_relative
from .pipeline import wait_quiet_sync
from .settings import DEMO_HISTORY_PERIODS, SERVICES, StackSettings

PROVINCES_DIR = DEPLOY_DIR / "provinces"
NATIONAL_DIR = DEPLOY_DIR / "national"  # the national regimes the provinces' plans map onto
DEFAULT_DEMO_PASSWORD = "baocao-demo"  # intake's default for BAOCAO_DEMO_PASSWORD
# Units in force today: Hải Dương (30) merged into Hải Phòng (31, DEMO DATA) after 2025-06.
EXAMPLE_REPORTERS = ("31-CA", "31-UBND-X-NS")
LOGIN_PATH = "/dang-nhap"
# `python -m intake.cli` would import the module and exit without running it (no __main__ guard).
INTAKE_ADMIN = [sys.executable, "-c", "import sys; from intake.cli import app; sys.argv[0] = 'baocao-intake'; app()"]
CONSOLIDATION_DEMO = [sys.executable, "-m", "consolidation.demo"]
_LOADED = re.compile(r"(?:province|regime) (\S+): (\d+) created, (\d+) updated, (\d+) retired, (\d+) unchanged")


class DemoError(RuntimeError):
    """Loading the province files or seeding the demo accounts failed."""


@dataclass
class DemoOutcome:
    """What the demo step did; kept in the stack's state so `up` on a running stack can repeat it."""

    seeded: bool
    reason: str = ""  # why not, when not seeded
    created: int = 0  # accounts created by this run
    operators: list[str] = field(default_factory=list)
    reporters: list[str] = field(default_factory=list)  # only the examples are shown, and the count
    reporter_count: int = 0

    def to_json(self) -> dict:
        return {**asdict(self), "reporters": self.reporters[:10]}

    @classmethod
    def from_json(cls, data: Mapping) -> "DemoOutcome":
        return cls(**data)


def demo_password() -> str:
    return os.environ.get("BAOCAO_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def province_files() -> list[Path]:
    return sorted(PROVINCES_DIR.glob("*.yaml"))


def regime_files() -> list[Path]:
    return sorted(NATIONAL_DIR.glob("*.yaml"))


def _intake_admin(settings: StackSettings, *args: str, timeout: float = 600) -> str:
    """Run `baocao-intake ARGS` in the repository with intake's environment; its stdout, or DemoError
    with the end of its output."""
    return _service_command(settings, "intake", INTAKE_ADMIN, "baocao-intake", *args, timeout=timeout)


def _service_command(
    settings: StackSettings, service: str, command: list[str], name: str, *args: str, timeout: float = 600
) -> str:
    """Run `command ARGS` in the repository with the service's environment; its stdout, or DemoError with the
    end of its output."""
    shown = " ".join([name, *args])
    try:
        result = subprocess.run(
            [*command, *args],
            cwd=REPO_ROOT,
            env={**os.environ, **settings.service_env(service)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DemoError(f"`{shown}` did not finish within {timeout:.0f}s") from None
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise DemoError(
            f"`{shown}` failed (exit {result.returncode}); `make up DEMO=0` starts without the demo:\n{output}"
        )
    return result.stdout


def seed_demo(
    settings: StackSettings, console: Console, step: Callable[[str], None], *, publish: bool = False
) -> DemoOutcome:
    """Load deploy/national/*.yaml and deploy/provinces/*.yaml together, then create the demo accounts (never in
    production); with `publish` (deadlines and consolidation run), the staff offices then publish their past months,
    on time, late or never."""
    if settings.passthrough.get("BAOCAO_ENV") == "production":
        reason = "BAOCAO_ENV=production refuses the demo accounts"
        step("demo")
        console.print(f"  [yellow]not seeded: {reason}[/yellow]")
        return DemoOutcome(seeded=False, reason=reason)
    files = [str(path.relative_to(REPO_ROOT)) for path in province_files()]
    step(f"demo: {len(files)} province file(s) from {PROVINCES_DIR.relative_to(REPO_ROOT)}")
    regimes = [str(path.relative_to(REPO_ROOT)) for path in regime_files()]  # the plans name them: one load
    changed = 0
    for line in _intake_admin(settings, "catalog", "load", *regimes, *files).splitlines() if files else []:
        console.print(f"  {escape(line)}")
        if match := _LOADED.search(line):
            changed += sum(int(n) for n in match.group(2, 3, 4))
    if files and not changed:
        console.print("  nothing changed (the catalogue was loaded before)")

    step("demo: accounts")
    created = json.loads(_intake_admin(settings, "accounts", "seed-demo", "--as-json") or "[]")
    roles = [row[1] for row in created]
    if created:
        counts = ", ".join(f"{roles.count(role)} {role}" for role in dict.fromkeys(roles))
        console.print(f"  created {len(created)} account(s): {counts}")
    else:
        console.print("  nothing changed (every demo account exists)")
    step("demo: past months of reports, so that no page starts empty")
    if (reached := simulated_reached(settings.home)) is not None:
        # Seeding now would fill the months a MONTH=1 run watched go by unreported, after the fact.
        console.print(f"  skipped: this data has lived through simulated months (up to {reached:%Y-%m-%d})")
    if reached is None and (codes := _province_codes(files)):
        # Tracking starts at the first month history fills: the months before are history, not 88 overdue rows.
        provinces = [arg for code in codes for arg in ("--province", code)]
        history = ["demo", "history", *provinces, "--periods", DEMO_HISTORY_PERIODS, "--track"]
        for line in _intake_admin(settings, *history).splitlines():
            console.print(f"  {escape(line)}")
    if publish and reached is None:
        _publish_past_months(settings, console, step)
    operators, reporters = asyncio.run(_demo_usernames(settings.database_url("intake", driver="postgresql")))
    return DemoOutcome(
        seeded=True,
        created=len(created),
        operators=operators,
        reporters=_examples(reporters),
        reporter_count=len(reporters),
    )


def _publish_past_months(settings: StackSettings, console: Console, step: Callable[[str], None]) -> None:
    """Once the units' past reports went through deadlines and consolidation, each demo province's office
    publishes them: before the national deadline, after it, or never (consolidation's demo command)."""
    step("demo: the staff offices publish past months (on time, late, or never), for the national office")
    if not wait_quiet_sync(settings, services=["intake", "deadlines"], groups=["deadlines", "consolidation"]):
        console.print("  [yellow]the pipeline did not settle in time: the reports may miss late arrivals[/yellow]")
    output = _service_command(
        settings, "consolidation", CONSOLIDATION_DEMO, "python -m consolidation.demo", "--periods", DEMO_HISTORY_PERIODS
    )
    for line in output.splitlines():
        console.print(f"  {escape(line)}")


async def _demo_usernames(url: str) -> tuple[list[str], list[str]]:
    """The active province operators and reporters in intake's database (all of them, not only new ones)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT username, role FROM accounts WHERE active AND role IN ('province_operator', 'reporter') "
            "ORDER BY username"
        )
    finally:
        await conn.close()
    return (
        [row["username"] for row in rows if row["role"] == "province_operator"],
        [row["username"] for row in rows if row["role"] == "reporter"],
    )


def _province_codes(files: Sequence[str]) -> list[str]:
    """Province codes of the loaded files, from their names (`30-hai-duong.yaml` -> 30)."""
    return sorted({Path(name).name.split("-", 1)[0] for name in files})


def _examples(reporters: Sequence[str]) -> list[str]:
    chosen = [name for name in EXAMPLE_REPORTERS if name in reporters]
    return (chosen + [name for name in reporters if name not in chosen])[:2]


# ------------------------------------------------------------------------------ How to try it


def print_how_to(
    settings: StackSettings,
    services: Sequence[str],
    demo: DemoOutcome | None,
    console: Console,
    *,
    month: DemoMonth | None = None,
    reached: datetime | None = None,
) -> None:
    """The short block after the table: where to sign in, as whom, the API docs, the mail sink, the
    logs; with the demo month, what happens when; after one, that the data is ahead of today."""
    console.print()
    console.print("[bold]How to try it[/bold]")
    if "intake" in services:
        console.print(f"  web form   {settings.service_url('intake')}{LOGIN_PATH}")
        if demo is not None and not demo.seeded:
            console.print(f"  accounts   no demo: {demo.reason}")
        elif demo is not None:
            kept = "" if demo.created else "  (accounts keep the password they were created with)"
            console.print(f"  password   {escape(demo_password())}{kept}")
            operators = ", ".join(demo.operators[:3]) + (", ..." if len(demo.operators) > 3 else "")
            console.print(f"  accounts   admin, national, {operators or 'op-<province>'}")
            examples = ", ".join(demo.reporters) or "none"
            console.print(f"  reporters  <province>-<unit>, e.g. {examples} ({demo.reporter_count} reporter accounts)")
    shown = [name for name in SERVICES if name in services]
    for i, name in enumerate(shown):
        console.print(f"  {'API docs' if i == 0 else '':<10} {name:<14} {settings.service_url(name)}/docs")
    if "notify" in services:
        folder = repo_relative(settings.mail_dir)
        console.print(f"  mail       {settings.mail_url}  (every mail notify sends lands here; folder {folder})")
    console.print(f"  logs       {settings.logs_dir}")
    if demo is not None and demo.seeded and set(SERVICES) <= set(services):
        _print_walkthrough(settings, demo, console)
    if month is not None:
        _print_month(month, console)
    elif reached is not None and reached > datetime.now(UTC):
        console.print(
            f"  [yellow]note[/yellow]       this data holds simulated times up to {reached:%Y-%m-%d} "
            "(from a MONTH=1 run), ahead of today's clock; `make clean` starts over at today's clock"
        )


def _print_month(month: DemoMonth, console: Console) -> None:
    console.print()
    console.print(f"[bold]The demo month[/bold] (simulated clock: {month.speed:g} simulated seconds per real second)")
    console.print(
        f"  Period {month.period} of plan {month.plan_id}: each unit that has not reported gets the reminders and, "
        "after the deadline, the overdue mails. When, in real time from now (and by the wall clock), and on the "
        f"simulated clock ({month.timezone}):"
    )
    for line in describe(month, datetime.now(UTC)):
        console.print(f"    {escape(line)}")
    console.print(
        f"  Then the months go on at the same pace (one every {real_month(month.speed)}) until `make down`. "
        "Watch the mail page, the deadlines "
        "dashboard (Tiến độ) and `make status` (it shows the simulated time). A unit that submits its report "
        "in the web form gets no more mails for the period."
    )
    console.print(
        "  [yellow]note[/yellow]  the data now holds simulated times ahead of today; a later `make up` keeps them "
        "(MONTH=1 again continues after them); `make clean` deletes the data and returns to today's clock."
    )


def walkthrough(settings: StackSettings, demo: DemoOutcome) -> list[str]:
    """What a newcomer can do in the browser, step by step, with the demo accounts (one sign-in serves
    every service's pages: the session cookie belongs to 127.0.0.1 whatever the port)."""
    url = settings.service_url
    reporter = demo.reporters[0] if demo.reporters else "31-CA"
    own = f"op-{reporter.split('-', 1)[0]}"  # the staff office of the reporter's province
    operator = own if own in demo.operators else (demo.operators[0] if demo.operators else own)
    province = operator.removeprefix("op-")
    return [
        f"1. {url('intake')}{LOGIN_PATH} as {reporter}: open the current period, fill in the form, send; "
        "the receipt shows the version (amend it the same way)",
        f"2. sign out, sign in as {operator}: {url('deadlines')}/tien-do?province={province} shows who reported, "
        "on time or late; urge the others (Đôn đốc)",
        f"3. {url('consolidation')}/ as {operator}: open a past month's report, approve (Duyệt), publish (Gửi), "
        "download the Word file; a later amendment of that month is refused",
        f"4. {url('intake')}/bao-cao/nhap-ho as {operator}: enter a report that came on paper on a unit's behalf "
        "(nhập hộ); the unit's history says so",
        f"5. as national: {url('deadlines')}/tien-do/quoc-gia shows the provinces on time, late or missing last "
        "month; urge the missing (Đôn đốc)",
        f"6. as national: {url('consolidation')}/ the totals per national regime; accept a published report "
        "(Tiếp nhận) or return it with a reason (Trả lại)",
        f"7. {url('notify')}/thong-bao as {operator}: every reminder and notice sent, and why one failed; "
        f"the mails themselves are at {settings.mail_url}",
        f"8. as admin: {url('deadlines')}/he-thong, the services' health, consumer lag and dead letters",
    ]


def _print_walkthrough(settings: StackSettings, demo: DemoOutcome, console: Console) -> None:
    console.print()
    console.print("[bold]What to try[/bold] (in a browser, with the password above)")
    for line in walkthrough(settings, demo):
        console.print(f"  {escape(line)}")
