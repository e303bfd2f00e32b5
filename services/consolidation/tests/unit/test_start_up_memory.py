"""An idle consolidation holds no document library: python-docx, reportlab, pyHanko and openpyxl (~60 MB together)
load when a document is first rendered, signed or checked, so the service starts under the 150 MB of
docs/PERFORMANCE.md's memory target like the other three."""

import subprocess
import sys

HEAVY = ("docx", "reportlab", "pyhanko", "openpyxl")


def test_the_app_starts_without_the_document_libraries():
    probe = (
        "import sys; from consolidation.main import create_app; from consolidation.config import Settings; "
        "create_app(Settings(database_url='postgresql+asyncpg://u@127.0.0.1:1/x', "
        "kafka_bootstrap_servers='127.0.0.1:1')); "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [], f"loaded at start-up: {done.stdout}"
