# reelflow: `make run` and `make test` are all a newcomer needs. Each target sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run demo test lint bench deploy clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reelflow serve

demo: $(STAMP)
	$(VENV)/bin/reelflow demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy core media providers

test: lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Scale-out: register deployments/prefect.yaml on the process work pool `reelflow` of PREFECT_API_URL
# (docs/scaling.md). Run from the repository root: entrypoints and the workers' pull step are relative to it.
deploy: $(STAMP)
	$(VENV)/bin/prefect --no-prompt work-pool create reelflow --type process --overwrite
	$(VENV)/bin/prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml

clean:
	rm -rf $(VENV) .reelflow .pytest_cache .mypy_cache .ruff_cache
