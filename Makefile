# One command each: `make run` serves the demo graph, `make test` lints and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run cluster test test-remote lint typecheck unit screenshots bench bench-large bench-safety bench-updates bench-queries bench-inference bench-history clean

PORTAL := kg/portal
PORTAL_STAMP := $(PORTAL)/node_modules/.installed-stamp

setup: $(STAMP) $(PORTAL_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# the portal's browser libraries, from the npm registry at the versions the lock file pins;
# served by kg from its own origin, never committed; no install script runs
$(PORTAL_STAMP): $(PORTAL)/package.json $(PORTAL)/package-lock.json
	npm ci --prefix $(PORTAL) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(PORTAL_STAMP)

run: setup  # the demo in its own store: ./kg-data (yours) is never touched
	$(BIN)/kg serve --demo --store .kg-demo

cluster: setup  # two kg processes on one Oxigraph server behind nginx at :8000 (deploy/)
	PATH="$(CURDIR)/$(BIN):$$PATH" deploy/run-procfile deploy/Procfile

lint: setup
	$(BIN)/ruff check kg tests bench
	$(BIN)/ruff format --check kg tests bench

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest

test: lint typecheck unit

# the suite again with every graph on a live `oxigraph serve` (tests/store_option.py)
test-remote: setup
	$(BIN)/python -m pytest --store=oxigraph-server -q

# the README's pictures of the portal, taken by its browser tests (needs Debian's chromium)
screenshots: setup
	KG_SCREENSHOTS=docs/portal $(BIN)/python -m pytest -q tests/portal

BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --scales 1000 10000 100000
	$(BIN)/python -m bench.stores --scales 1000 10000
	$(BIN)/python -m bench.inference --scales 10000 100000 --mlflow 50
	$(BIN)/python -m bench.history --scales 10000 100000 --changes 10000

bench-large: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --scales 1000000 --skip-reference

bench-inference: $(BENCH_STAMP)  # inference upkeep per write; MLflow hydration throughput
	$(BIN)/python -m bench.inference --scales 10000 100000 --mlflow 50

bench-history: $(BENCH_STAMP)  # history on vs off; as-of lineage after 10k changes; storage
	$(BIN)/python -m bench.history --scales 10000 100000 --changes 10000

bench-updates: $(STAMP)
	$(BIN)/python -m bench.updates --scales 10000 100000

bench-safety: $(BENCH_STAMP)
	$(BIN)/python -m bench.safety --scales 10000 100000

bench-queries: $(BENCH_STAMP)
	$(BIN)/python -m bench.queries --scales 10000 100000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
