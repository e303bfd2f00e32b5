"""The results of bench/results/*.json as one Markdown table (for docs/PERFORMANCE.md).

    uv run --frozen python -m bench.report            # print it
`make bench` also writes it to bench/results/summary.md after each run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.harness import RESULTS

ORDER = ["intake", "e2e", "replay", "calendar", "memory"]


def number(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def load(results: Path = RESULTS) -> list[dict]:
    documents = [json.loads(path.read_text()) for path in sorted(results.glob("*.json"))]
    return sorted(documents, key=lambda d: ORDER.index(d["suite"]) if d["suite"] in ORDER else 99)


def markdown(documents: list[dict]) -> str:
    lines = [
        "| suite | figure | value | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for document in documents:
        for f in document["figures"]:
            baseline = "–"
            if f["baseline"] is not None:
                baseline = f"{number(f['baseline'], f['unit'])} ({f['baseline_name']})"
            ratio = f"{f['ratio']:.2f}" if f.get("ratio") is not None else "–"
            met = {True: "met", False: "**not met**", None: ""}[f["met"]]
            lines.append(
                f"| {f['suite']} | {f['name']} | {number(f['value'], f['unit'])} | {baseline} | {ratio} "
                f"| {f['target']} | {met} |"
            )
    runs = ", ".join(f"{d['suite']} {d['at']} ({d['seconds']:.0f} s)" for d in documents)
    return "\n".join(lines) + f"\n\nRuns: {runs}.\n"


def write_summary(results: Path = RESULTS) -> Path:
    path = results / "summary.md"
    path.write_text(markdown(load(results)))
    return path


if __name__ == "__main__":
    print(markdown(load()))
