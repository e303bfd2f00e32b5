"""Baocao's benchmarks: `make bench` (or `uv run --frozen python -m bench`). See docs/PERFORMANCE.md."""
