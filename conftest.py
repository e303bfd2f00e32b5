"""The suite's plugins, and what `make test` leaves to `make faults`."""

import pytest

from baocao_testing.kit import FAULTS_LONG

pytest_plugins = ["baocao_testing.fixtures", "baocao_testing.signing"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without BAOCAO_FAULTS_LONG (make test, make check) the `faults_long` cases are deselected, not skipped:
    `make faults` runs them (the long fault cases, and the backup drill of deploy/tests/test_backup.py)."""
    if FAULTS_LONG:
        return
    deselected = [item for item in items if item.get_closest_marker("faults_long")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("faults_long")]
