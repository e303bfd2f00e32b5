"""`make bench`: every benchmark against one PostgreSQL and one Kafka of the run's own; each figure
printed beside its same-run baseline as a ratio; JSON to bench/results/, the table for docs/PERFORMANCE.md.

    uv run --frozen python -m bench                       # all suites (under 10 minutes)
    uv run --frozen python -m bench --only intake,replay  # some of them
"""

from __future__ import annotations

import asyncio
import importlib
import json
import platform
import time
import traceback
from datetime import UTC, datetime
from typing import Annotated

import psutil
import typer

from bench.harness import RESULTS, Figure, Infra, say, start_infra, stop_infra
from bench.report import number, write_summary

SUITES = {
    "intake": "bench.intake",
    "e2e": "bench.e2e",
    "replay": "bench.replay",
    "calendar": "bench.calendar_scale",
    "memory": "bench.memory",
}


def print_table(figures: list[Figure]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Baocao benchmarks (ratio = figure / same-run baseline)")
    for column in ("suite", "figure", "value", "baseline", "ratio", "target", "met"):
        table.add_column(column, overflow="fold")
    for f in figures:
        met = {True: "[green]met[/green]", False: "[red]NOT met[/red]", None: ""}[f.met]
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        baseline = f"{number(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else "-"
        table.add_row(f.suite, f.name, number(f.value, f.unit), baseline, ratio, f.target, met)
    Console(width=200).print(table)


async def run_suites(names: list[str], *, quick: bool, keep: bool) -> list[Figure]:
    infra: Infra = await start_infra()
    figures: list[Figure] = []
    try:
        for name in names:
            started = time.perf_counter()
            say(f"== {name}")
            try:
                module = importlib.import_module(SUITES[name])
                found = await module.run(infra, quick=quick)
            except Exception as exc:  # a broken suite is reported, and the others still run
                traceback.print_exc()
                error = {"error": repr(exc)}
                failed = Figure(suite=name, name="suite failed", value=float("nan"), unit="", notes=error)
                found = [failed]
            seconds = time.perf_counter() - started
            say(f"== {name} done in {seconds:.0f}s")
            _write(name, found, seconds)
            figures += found
    finally:
        stop_infra(infra, keep=keep)
    return figures


def _machine() -> dict:
    return {
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _write(name: str, figures: list[Figure], seconds: float) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {
        "suite": name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": _machine(),
        "figures": [f.to_json() for f in figures],
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def main(
    only: Annotated[str, typer.Option(help=f"comma-separated suites of {', '.join(SUITES)}")] = "",
    quick: Annotated[bool, typer.Option(help="smaller sizes, for trying a suite out (figures not comparable)")] = False,
    keep: Annotated[bool, typer.Option(help="keep the run's server data and logs")] = False,
) -> None:
    names = [n.strip() for n in only.split(",") if n.strip()] or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise typer.BadParameter(f"unknown suite(s) {unknown}; choose from {', '.join(SUITES)}")
    started = time.perf_counter()
    figures = asyncio.run(run_suites(names, quick=quick, keep=keep))
    print_table(figures)
    missed = [f for f in figures if f.met is False]
    failed = [f for f in figures if f.name == "suite failed"]
    summary = write_summary()
    say(f"{len(figures)} figures in {time.perf_counter() - started:.0f}s; results in {RESULTS}, table in {summary}")
    if missed:
        say("targets not met: " + "; ".join(f"{f.suite}: {f.name}" for f in missed))
    raise typer.Exit(1 if failed else 0)


if __name__ == "__main__":
    typer.run(main)
