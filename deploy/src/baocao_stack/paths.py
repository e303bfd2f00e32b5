"""Where things are: the repository, its deploy/ folder, and the default state folder."""

from pathlib import Path

# deploy/src/baocao_stack/paths.py -> the repository root is three folders up from this package.
REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY_DIR = REPO_ROOT / "deploy"
KAFKA_POM = DEPLOY_DIR / "kafka" / "pom.xml"
KAFKA_LOG4J = DEPLOY_DIR / "kafka" / "log4j2.properties"
DEFAULT_HOME = REPO_ROOT / ".local"


def repo_relative(path: Path) -> str:
    """A path as people read it: relative to the repository when inside it (`.local/mail`)."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
