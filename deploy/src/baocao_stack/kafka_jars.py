"""Apache Kafka's jars from Maven Central, fetched once into the stack's home (`ensure_kafka_jars`) with Maven and
the pom under deploy/kafka/, with progress lines while Maven downloads; a lock keeps two fetches apart."""

import contextlib
import fcntl
import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .paths import KAFKA_POM
from .procs import describe_exit

HOST = "127.0.0.1"
POM_MARKER = ".pom.sha256"
PROGRESS_EVERY = 5.0  # seconds between progress lines while Maven downloads


class KafkaStartError(RuntimeError):
    """Kafka could not be fetched, formatted, started or reached."""


# ---------------------------------------------------------------------------------------- jars


def libs_dir(home: Path) -> Path:
    return Path(home) / "kafka" / "libs"


def _digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _is_cached(libs: Path, digest: str) -> bool:
    marker = libs / POM_MARKER
    return marker.is_file() and marker.read_text().strip() == digest and any(libs.glob("*.jar"))


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (two test workers must not run Maven into one folder)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_kafka_jars(home: Path, *, say: Callable[[str], None] = print, pom: Path = KAFKA_POM) -> Path:
    """Fill `<home>/kafka/libs` with the broker's jars (once per pom version); return that folder."""
    libs = libs_dir(home)
    digest = _digest(pom)
    if _is_cached(libs, digest):
        say(f"using cached Kafka jars in {libs}")
        return libs
    libs.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(libs.parent / ".libs.lock"):
        if _is_cached(libs, digest):  # another process fetched them while we waited
            say(f"using cached Kafka jars in {libs}")
            return libs
        _fetch_jars(pom, libs, digest, say)
    return libs


def _fetch_jars(pom: Path, libs: Path, digest: str, say: Callable[[str], None]) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaStartError(
            "Maven (`mvn`) is not on PATH; it fetches the Kafka jars. "
            "Install it (Debian/Ubuntu: apt-get install maven) and run again."
        )
    staging = libs.parent / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    output = libs.parent / "mvn.log"
    reason = "the pom changed" if (libs / POM_MARKER).exists() else "first run"
    say(
        f"fetching Kafka jars from Maven Central ({reason}; about a minute on a cold machine); "
        f"Maven's output goes to {output}"
    )
    args = [
        mvn, "-B", "-f", str(pom), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    started = time.monotonic()
    with output.open("wb") as out:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    proc.wait(timeout=PROGRESS_EVERY)
                    break
                except subprocess.TimeoutExpired:
                    say(_maven_progress(output, time.monotonic() - started))
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
    jars = sorted(staging.glob("*.jar")) if staging.is_dir() else []
    if proc.returncode != 0 or not jars:
        raise KafkaStartError(describe_exit(output, f"Maven failed to fetch the Kafka jars (exit {proc.returncode})"))
    (staging / POM_MARKER).write_text(digest + "\n")
    if libs.is_symlink() or libs.is_file():
        libs.unlink()
    elif libs.exists():
        shutil.rmtree(libs)
    staging.rename(libs)
    say(f"{len(jars)} Kafka jars ready in {libs} ({time.monotonic() - started:.0f}s)")


_DOWNLOADED = re.compile(r"Downloaded from \S+: (\S+) \(([\d.]+) (B|kB|MB)")
_UNITS = {"B": 1e-6, "kB": 1e-3, "MB": 1.0}


def _maven_progress(output: Path, elapsed: float) -> str:
    """One line about Maven's downloads so far, read from its output."""
    found = _DOWNLOADED.findall(output.read_text(errors="replace"))
    if not found:
        return f"  ... resolving dependencies ({elapsed:.0f}s)"
    megabytes = sum(float(size) * _UNITS[unit] for _, size, unit in found)
    latest = found[-1][0].rsplit("/", 1)[-1]
    return f"  ... {len(found)} files ({megabytes:.1f} MB) downloaded, latest {latest} ({elapsed:.0f}s)"


# ------------------------------------------------------------------------------ configuration
