# reelflow: `make run` and `make test` are all a newcomer needs. Each target sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run demo test lint bench deploy clean clean-data

# First contact: check the interpreter before anything else, then say what is happening while pip works.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "reelflow needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) -V 2>/dev/null || echo "not found"). Run e.g. 'make $(MAKECMDGOALS) PYTHON=python3.12'." >&2; \
	  exit 1; }
	@test -x $(PY) || { echo "==> creating the virtualenv $(VENV) with $$($(PYTHON) -V)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing reelflow and its dependencies into $(VENV) (first run: a few minutes, about 1 GB)"
	$(PY) -m pip install --upgrade --progress-bar off pip
	$(PY) -m pip install --progress-bar off -e '.[dev]'
	@touch $(STAMP)
	@echo "==> $(VENV) is ready"

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reelflow serve

demo: $(STAMP)
	$(VENV)/bin/reelflow demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy core media providers reelflow_client

# Two workers (CI has 2 cores): tests/scheduling.py makes each module one unit of work (all e2e modules on the
# session stack one unit, so that stack starts once) and starts the long e2e units first.
TEST_WORKERS ?= 2
test: lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Scale-out: register deployments/prefect.yaml on the process work pool `reelflow` of PREFECT_API_URL
# (docs/scaling.md). Run from the repository root: entrypoints and the workers' pull step are relative to it.
# A Prefect server reachable from other machines must require credentials (whoever reaches an open one can read
# every job, cancel runs or change a deployment's pull steps, which workers then execute): refuse to deploy without.
deploy: $(STAMP)
	@test -n "$$PREFECT_API_AUTH_STRING" || { echo "make deploy: set PREFECT_API_AUTH_STRING (user:password), the value of the server's PREFECT_SERVER_API_AUTH_STRING (docs/scaling.md)" >&2; exit 1; }
	$(VENV)/bin/prefect --no-prompt work-pool create reelflow --type process --overwrite
	$(VENV)/bin/prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml

# Removes what `make setup` and the tools made; never your videos, database or API key (see clean-data).
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Deletes the data dir: every video, the embedded database (every request) and the generated API key. Stop the
# service first. Named on purpose so that nobody types it by accident.
clean-data:
	@echo "deleting .reelflow (videos, database, API key and secrets)"
	rm -rf .reelflow
