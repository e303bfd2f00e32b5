"""`baocao-intake`: load and check province files and national regimes' files, generate synthetic ones, seed demo
accounts."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import yaml

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.errors import DomainError
from baocao_shared.events.catalog import PERIOD_MONTH
from baocao_shared.principal import Principal, Role
from intake.adapters.uow import IntakeUnitOfWork
from intake.config import Settings
from intake.domain.catalog import ProvinceCatalog
from intake.domain.catalog_text import CatalogFileError
from intake.domain.regimes import RegimeCatalog, parse_catalog_file
from intake.domain.synthetic import dump, synthetic_codes, synthetic_province
from intake.handlers.accounts import create_account as create_account_in
from intake.handlers.accounts import seed_demo_accounts
from intake.handlers.catalog import load_provinces
from intake.handlers.demo import seed_history
from intake.handlers.periods import set_tracking, track_recent
from intake.main import MIGRATIONS

T = TypeVar("T")

app = typer.Typer(help="Baocao intake administration.", no_args_is_help=True)
catalog_app = typer.Typer(
    help="Province files and national regimes' files: the catalogue of provinces, units, plans and regimes.",
    no_args_is_help=True,
)
accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data (refused when BAOCAO_ENV=production).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(accounts_app, name="accounts")
app.add_typer(demo_app, name="demo")


def _in_unit_of_work(work: Callable[[IntakeUnitOfWork, Settings], Awaitable[T]]) -> T:
    """Run `work` in one transaction of intake's database (migrated first); a rule's refusal is a one-line
    message and exit status 2, not a traceback."""

    async def run() -> T:
        settings = Settings()
        await upgrade_database(MIGRATIONS, settings.database_url)
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            async with IntakeUnitOfWork.begin(make_sessionmaker(engine)) as uow:
                return await work(uow, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DomainError as err:
        typer.echo(f"refused: {err.message}", err=True)
        for problem in err.details if isinstance(err.details, list) else []:
            where = problem.get("field") or problem.get("path")
            line = f"line {problem['line']}: " if problem.get("line") else ""
            typer.echo(f"  {line}{where}: {problem.get('message')}", err=True)
        raise typer.Exit(2) from None


def _parse(path: Path) -> ProvinceCatalog | RegimeCatalog:
    try:
        return parse_catalog_file(path.read_text(encoding="utf-8"))
    except CatalogFileError as exc:
        typer.echo(f"{path}: {len(exc.problems)} problem(s); nothing was loaded", err=True)
        for line in str(exc).splitlines():
            typer.echo(f"  {path}:{line}", err=True)
        raise typer.Exit(1) from None


@catalog_app.command("validate")
def validate(files: list[Path]) -> None:
    """Check province files and regime files without loading them."""
    for path in files:
        catalog = _parse(path)
        if isinstance(catalog, RegimeCatalog):
            regime = catalog.regime
            typer.echo(f"{path}: ok: national regime {regime.id} {regime.number}, {len(regime.template.tasks)} task(s)")
            continue
        typer.echo(
            f"{path}: ok: province {catalog.province.code} {catalog.province.name}, "
            f"{len(catalog.units)} units, {len(catalog.plans)} plan(s)"
        )


@catalog_app.command("load")
def load(files: list[Path], actor: str = "cli") -> None:
    """Load province files and national regimes' files (`regime:` at the top) into the intake database; the running
    service publishes the changes."""
    parsed = [_parse(path) for path in files]
    catalogs = [c for c in parsed if isinstance(c, ProvinceCatalog)]
    regimes = [c for c in parsed if isinstance(c, RegimeCatalog)]

    async def run(uow: IntakeUnitOfWork, settings: Settings) -> None:
        now = settings.build_clock().now()  # the business clock, whichever kind it is
        # All the files together: one may name successors in another (Hải Dương's units in Hải Phòng's), a plan
        # the regime of a regime file (deploy/national/*.yaml).
        for summary in await load_provinces(uow, catalogs, actor=actor, now=now, regimes=regimes):
            what = f"regime {summary['regime']}" if "regime" in summary else f"province {summary['province']}"
            typer.echo(
                f"{what}: {len(summary['created'])} created, "
                f"{len(summary['updated'])} updated, {len(summary['retired'])} retired, "
                f"{summary['unchanged']} unchanged"
            )

    _in_unit_of_work(run)


@catalog_app.command("tracking")
def tracking(
    province: Annotated[str, typer.Argument(help="Province code, e.g. 30")],
    plan_id: Annotated[str | None, typer.Argument(help="The plan's id, e.g. hd-467-2019")] = None,
    start: Annotated[str | None, typer.Option("--from", help="The first tracked period, YYYY-MM")] = None,
    past: Annotated[
        int | None,
        typer.Option(min=1, max=240, help="Instead: each plan's first of its N last due periods (demo history's)"),
    ] = None,
    keep: Annotated[bool, typer.Option(help="With --past: leave a start already set")] = False,
    actor: str = "cli",
) -> None:
    """Set the province's start of tracking of a plan: periods before it are history (not owed, never overdue)."""
    if (start is None) == (past is None) or (start is not None and plan_id is None):
        typer.echo("refused: give PLAN_ID with --from YYYY-MM, or --past N (for every plan in force)", err=True)
        raise typer.Exit(2)
    if start is not None and not re.fullmatch(PERIOD_MONTH, start):
        typer.echo(f"refused: {start!r} is not a period YYYY-MM", err=True)
        raise typer.Exit(2)

    async def run(uow: IntakeUnitOfWork, settings: Settings) -> list:
        admin = Principal(subject=actor, role=Role.ADMIN)
        now = settings.build_clock().now()
        if past is not None:
            return await track_recent(uow, principal=admin, province=province, periods_back=past, keep=keep, now=now)
        assert plan_id is not None and start is not None
        return [
            await set_tracking(uow, principal=admin, province=province, plan_id=plan_id, tracking_from=start, now=now)
        ]

    for plan in _in_unit_of_work(run):
        typer.echo(f"province {province} plan {plan.id}: tracked from {plan.tracking_from or plan.first_period}")


@catalog_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Folder for the generated files")],
    provinces: Annotated[int, typer.Option(min=1, max=98)] = 34,
    units: Annotated[int, typer.Option(min=1, max=9999)] = 30,
    template: Annotated[Path, typer.Option(help="A province file whose plans to copy")] = Path(
        "deploy/provinces/30-hai-duong.yaml"
    ),
) -> None:
    """Write N synthetic province files of M units each, for scale work."""
    source = yaml.safe_load(template.read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    for code in synthetic_codes(provinces, {source["province"]["code"]}):
        (out / f"{code}-synthetic.yaml").write_text(dump(synthetic_province(source, code=code, units=units)))
    typer.echo(f"wrote {provinces} province files of {units} units each to {out}")


@accounts_app.command("create")
def create_account(
    username: str,
    role: Annotated[str, typer.Option(help="reporter, province_operator, national_operator or admin")],
    province: Annotated[str | None, typer.Option(help="The province of an operator or reporter")] = None,
    unit: Annotated[str | None, typer.Option(help="The unit of a reporter")] = None,
) -> None:
    """Create one account, e.g. the first admin of a production deployment (demo seeding is refused there).

    The password is read from standard input: typed without echo on a terminal, else its first line.
    """
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")

    async def run(uow: IntakeUnitOfWork, settings: Settings) -> dict:
        return await create_account_in(
            uow,
            username=username,
            password=password,
            role=role,
            province=province,
            unit=unit,
            actor="cli",
            now=settings.build_clock().now(),
        )

    created = _in_unit_of_work(run)
    scope = "/".join(x for x in (created["province"], created["unit"]) if x)
    typer.echo(f"created account {created['username']} ({created['role']}{' ' + scope if scope else ''})")


@accounts_app.command("seed-demo")
def seed_demo(as_json: bool = False) -> None:
    """Create the demo accounts (refused when BAOCAO_ENV=production) and print them."""

    async def run(uow: IntakeUnitOfWork, settings: Settings) -> list:
        return await seed_demo_accounts(uow, password=settings.demo_password, env=settings.env)

    created = _in_unit_of_work(run)
    if as_json:
        typer.echo(json.dumps([list(map(str, row)) for row in created], ensure_ascii=False))
    else:
        for row in created:
            typer.echo("  ".join(str(x) for x in row if x))


@demo_app.command("history")
def demo_history(
    province: Annotated[list[str], typer.Option(help="Province code; repeat it for several")] = ["30"],  # noqa: B006
    periods: Annotated[int, typer.Option(min=1, max=24, help="How many past periods")] = 2,
    track: Annotated[
        bool, typer.Option(help="First start each plan's tracking at the first of them, unless set (tracking --past)")
    ] = False,
    seed: int = 1,
) -> None:
    """Past months of plausible reports through the real submission rules, so pages are not empty; one run for
    every province given (one interpreter's start instead of one per province)."""

    async def run(uow: IntakeUnitOfWork, settings: Settings) -> list[str]:
        now, lines = settings.build_clock().now(), []
        admin = Principal(subject="cli", role=Role.ADMIN)
        for code in province:
            if track:
                for plan in await track_recent(
                    uow, principal=admin, province=code, periods_back=periods, keep=True, now=now
                ):
                    lines.append(
                        f"province {code} plan {plan.id}: tracked from {plan.tracking_from or plan.first_period}"
                    )
            for row in await seed_history(uow, province=code, periods=periods, now=now, env=settings.env, seed=seed):
                lines.append(
                    f"{row['plan_id']} {row['period']}: {row['on_time']} on time, {row['late']} late, "
                    f"{row['missing']} missing, {row['amended']} amended, {row['existing']} already there"
                )
        return lines

    for line in _in_unit_of_work(run):
        typer.echo(line)


if __name__ == "__main__":
    app()
