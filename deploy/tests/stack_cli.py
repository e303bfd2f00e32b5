"""Running the launcher's command line as a user does, for the tests of `baocao-stack up`, `status` and `down`."""

import subprocess
import sys


def stack_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """`python -m baocao_stack.cli <args>` with `env`, its output captured; never raises on its exit code."""
    return subprocess.run(
        [sys.executable, "-m", "baocao_stack.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
