"""The AsyncAPI document (shared/asyncapi.yaml) passes the official AsyncAPI parser, and says what the records carry.

The parser is @asyncapi/parser from npm, at the version and dependency tree locked in tests/contract/asyncapi/
(package.json, package-lock.json). The test installs it on first use, with `npm ci --ignore-scripts`, under
.local/node/asyncapi-parser/ (ignored by git), and again whenever the lock changes; without Node.js and npm the
test fails (`make test` and `make check` install Debian's when `node` is missing). validate.cjs runs the parser on
the document, its $refs to shared/schemas/ resolved, and prints the diagnostics.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from baocao_shared.events import EVENTS
from baocao_shared.events.export import ASYNCAPI_PATH
from baocao_shared.messaging.headers import record_headers

REPO = Path(__file__).resolve().parents[2]
LOCKED = Path(__file__).resolve().parent / "asyncapi"
INSTALL = REPO / ".local" / "node" / "asyncapi-parser"
ERROR, WARNING = 0, 1  # Spectral's severities; 2 and 3 are information and hints


@pytest.fixture(scope="module")
def parser_home() -> Path:
    """The folder holding node_modules/@asyncapi/parser, installed from the lock file when it is not there yet."""
    npm = shutil.which("npm")
    assert shutil.which("node") and npm, (
        "the AsyncAPI parser needs Node.js and npm (Debian: apt-get install nodejs npm)"
    )
    files = ("package.json", "package-lock.json")
    stamp = hashlib.sha256(b"".join((LOCKED / name).read_bytes() for name in files)).hexdigest()
    INSTALL.mkdir(parents=True, exist_ok=True)
    with (INSTALL.parent / "asyncapi-parser.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # two test runs in one work tree install it once
        marker = INSTALL / ".installed"
        if not marker.exists() or marker.read_text() != stamp:
            for name in files:
                shutil.copyfile(LOCKED / name, INSTALL / name)
            installed = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", str(INSTALL)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert installed.returncode == 0, f"npm ci of the AsyncAPI parser failed:\n{installed.stderr[-3000:]}"
            marker.write_text(stamp)
    return INSTALL


def parse(parser_home: Path, document: Path) -> dict:
    ran = subprocess.run(
        ["node", str(LOCKED / "validate.cjs"), str(parser_home), str(document)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, f"the parser did not run:\n{ran.stderr[-3000:]}"
    return json.loads(ran.stdout)


def test_the_asyncapi_document_passes_the_official_parser(parser_home):
    found = parse(parser_home, ASYNCAPI_PATH)
    problems = [d for d in found["diagnostics"] if d["severity"] in (ERROR, WARNING)]
    assert found["parsed"] and problems == [], json.dumps(problems, indent=2, ensure_ascii=False)[:6000]


def test_the_parser_refuses_a_broken_document(parser_home, tmp_path):
    """The check can fail: the same document with a message property AsyncAPI does not have."""
    shutil.copytree(ASYNCAPI_PATH.parent / "schemas", tmp_path / "schemas")
    broken = ASYNCAPI_PATH.read_text(encoding="utf-8").replace("      headers:\n", "      header:\n", 1)
    (tmp_path / "asyncapi.yaml").write_text(broken, encoding="utf-8")
    found = parse(parser_home, tmp_path / "asyncapi.yaml")
    errors = [d for d in found["diagnostics"] if d["severity"] == ERROR]
    assert not found["parsed"] and any('"header" is not expected' in d["message"] for d in errors), found


def test_every_message_says_the_headers_the_relay_sends():
    messages = yaml.safe_load(ASYNCAPI_PATH.read_text(encoding="utf-8"))["components"]["messages"]
    described = {m["name"]: m for m in messages.values()}
    assert set(described) == set(EVENTS)
    for event_type, message in described.items():
        headers = message["headers"]
        sent = {name: value.decode() for name, value in record_headers(event_type)}
        assert {name: schema["const"] for name, schema in headers["properties"].items()} == sent, event_type
        assert set(headers["required"]) == set(sent), event_type
        assert message["contentType"] == sent["content-type"], event_type
