"""The benchmark harness reports what it measured: percentiles, ratios against the same-run baseline, the table."""

import json
import math

from bench.harness import Figure, percentile
from bench.report import load, markdown


def test_percentiles_of_a_known_sample():
    samples = [float(n) for n in range(1, 101)]  # 1 .. 100
    assert percentile(samples, 50) == 50.5
    assert 98.9 < percentile(samples, 99) < 99.1
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_a_figure_is_shown_beside_its_baseline_as_a_ratio(tmp_path):
    fast = Figure(suite="intake", name="rps at c64", value=600, unit="req/s", baseline=1000, baseline_name="bare")
    missed = Figure(
        suite="replay",
        name="rebuild",
        value=1,
        unit="ev/s",
        baseline=4,
        baseline_name="bare",
        target="≥ 0.5",
        met=False,
    )
    alone = Figure(suite="memory", name="heap", value=3, unit="MB")
    assert fast.ratio == 0.6 and missed.ratio == 0.25 and alone.ratio is None
    for suite, figures in (("intake", [fast]), ("replay", [missed, alone])):
        document = {
            "suite": suite,
            "at": "2026-11-28T00:00:00+00:00",
            "seconds": 3,
            "figures": [f.to_json() for f in figures],
        }
        (tmp_path / f"{suite}.json").write_text(json.dumps(document))
    table = markdown(load(tmp_path))
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows[0].startswith("| intake | rps at c64 | 600 req/s | 1,000 req/s (bare) | 0.60 |")
    assert "| 0.25 | ≥ 0.5 | **not met** |" in rows[1]
    assert rows[2].startswith("| memory | heap | 3 MB | – | – |")
