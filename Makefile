# Baocao: one command for the local stack. Real PostgreSQL and Kafka run as processes (no Docker).
# Settings come from the environment; see `uv run baocao-stack --help`. For example:
#   make up                                  # PostgreSQL, Kafka and the four services
#   make up SERVICES=none                    # only PostgreSQL and Kafka
#   make up SERVICES=intake,deadlines
#   make up DEMO=0                           # without the demo catalogue and accounts
#   make up MONTH=1                          # the demo month on a simulated clock, mails in the mail sink
#   BAOCAO_HOME=/tmp/b2 BAOCAO_KAFKA_PORT=19092 BAOCAO_PG_PORT=15432 BAOCAO_PORT_BASE=18000 make up

UV ?= $(shell command -v uv || echo $$HOME/.local/bin/uv)
SERVICES ?= all
DEMO ?= 1
MONTH ?= 0
BROKERS ?= $(if $(BAOCAO_BROKERS),$(BAOCAO_BROKERS),1)
PYTEST_ARGS ?=
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help uv sync up down clean status test check faults bench wrk chromium node lint openapi

help:
	@echo "make up [SERVICES=all|none|intake,deadlines,...]  start the local stack (prints its table)"
	@echo "        [DEMO=0]                                   ... without the demo catalogue and accounts"
	@echo "        [MONTH=1]                                  ... and watch a month: reminders, deadline, overdue mails"
	@echo "                                                   and escalation within minutes (a simulated clock)"
	@echo "        [BROKERS=3]                                ... on a KRaft cluster of 3 Kafka brokers (ports 9092/9093,"
	@echo "                                                   9094/9095, 9096/9097; replication 3, min.insync.replicas 2)"
	@echo "make status                                        the table: addresses, pids, logs"
	@echo "make down                                          stop everything; keep the data"
	@echo "make clean                                         down, then delete BAOCAO_HOME (default .local)"
	@echo "make test [PYTEST_ARGS=...]                        the whole suite (installs Debian's chromium, nodejs and npm"
	@echo "                                                   when missing)"
	@echo "make check [PYTEST_ARGS=...]                       the edit loop (minutes): unit and in-process integration"
	@echo "                                                   tests; no service or launcher processes, browser, fault"
	@echo "                                                   cases or fuzzing"
	@echo "make faults                                        the fault suite, long: every case, each fault 3 times"
	@echo "                                                   under load (figures in artifacts/faults/; make test runs"
	@echo "                                                   one case of each fault class, short), and the backup"
	@echo "                                                   drill (deploy/tests/test_backup.py) and a real 3-broker"
	@echo "                                                   make up / down (deploy/tests/test_cluster.py)"
	@echo "make bench [BENCH_ARGS=--only intake,replay]       the benchmarks (under 10 min): each figure beside a"
	@echo "                                                   same-run baseline; JSON in bench/results/"
	@echo "make lint                                          ruff"
	@echo "make openapi                                       write docs/openapi/<service>.json after an API change"

# uv itself: installed with pip into ~/.local/bin when it is missing.
uv:
	@if ! command -v "$(UV)" >/dev/null 2>&1; then \
		echo "==> uv not found; installing it with pip (into ~/.local/bin)"; \
		python3 -m pip install --user uv \
		|| python3 -m pip install --user --break-system-packages uv \
		|| pip install uv; \
	fi
	@command -v "$(UV)" >/dev/null 2>&1 || { echo "uv is still not at $(UV); install it (https://docs.astral.sh/uv/) or run make UV=/path/to/uv"; exit 1; }

# The virtual environment, exactly as locked when uv.lock exists. --compile-bytecode writes the .pyc files of
# the installed packages once (a no-op when they are up to date): without them every Python process compiles
# SQLAlchemy, FastAPI, pydantic, alembic... again (~2.6 s of CPU per start where PYTHONDONTWRITEBYTECODE is set,
# as it is here), and the suites start dozens of service, CLI and worker processes.
sync: uv
	@echo "==> uv sync"
	@if [ -f uv.lock ]; then "$(UV)" sync --frozen --compile-bytecode; else "$(UV)" sync --compile-bytecode; fi

up: sync
	@"$(UV)" run --frozen baocao-stack up --services "$(SERVICES)" --brokers "$(BROKERS)" $(if $(filter 0 no false,$(DEMO)),--no-demo) $(if $(filter 1 yes true,$(MONTH)),--month)

down: uv
	@"$(UV)" run --frozen baocao-stack down

clean: uv
	@"$(UV)" run --frozen baocao-stack clean

status: uv
	@"$(UV)" run --frozen baocao-stack status

test: sync chromium node
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# What `make test` runs but for the slow kinds: service processes (e2e), the launcher's processes (stack),
# the browser, the fault cases and the fuzzing.
check: sync node
	$(UV) run --frozen pytest -m "not e2e and not stack and not browser and not faults and not fuzz" $(PYTEST_ARGS)

faults: sync
	BAOCAO_FAULTS_LONG=1 $(UV) run --frozen pytest tests/faults services/notify/tests/faults deploy/tests/test_backup.py deploy/tests/test_cluster.py -s $(PYTEST_ARGS)

# wrk, the HTTP load generator of the intake benchmark, from Debian's packages.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "==> installing Debian's wrk (the HTTP load generator)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else echo "wrk is missing: install it (Debian/Ubuntu: sudo apt-get install wrk)"; exit 1; fi; }

# Debian's Chromium, which the browser tests drive (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "==> installing Debian's chromium (the browser tests drive it)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing and cannot be installed here (not root, or no apt-get): install it"; \
			echo "(Debian/Ubuntu: sudo apt-get install chromium), then run make test again"; exit 1; fi; }

# Node.js and npm, on which tests/contract/test_asyncapi.py runs the official AsyncAPI parser (the test installs the
# parser itself, from its lock file, under .local/node/).
node:
	@{ command -v node && command -v npm; } >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "==> installing Debian's nodejs and npm (the AsyncAPI contract test runs on them)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
		else echo "node or npm is missing: install them (Debian/Ubuntu: sudo apt-get install nodejs npm)"; exit 1; fi; }

bench: sync wrk
	$(UV) run --frozen python -m bench $(BENCH_ARGS)

lint: sync
	$(UV) run --frozen ruff check .

# The HTTP contract's snapshot (tests/contract/test_openapi_snapshot.py compares the served documents with it).
openapi: sync
	$(UV) run --frozen python -m baocao_testing.openapi
