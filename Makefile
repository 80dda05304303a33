# needs-router: `make run` runs the whole pipeline, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit integration e2e schemas clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; safe to run again and again.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[embedded,dev]"
	touch $(STAMP)

run: install
	$(BIN)/needs-router up

lint: install
	$(BIN)/ruff check services shared tests
	$(BIN)/ruff format --check services shared tests
	$(BIN)/mypy
	$(BIN)/needs-router schemas --check

unit: install
	$(BIN)/pytest -m unit -q

integration: install
	$(BIN)/pytest -m "integration or e2e" -q

test: lint
	$(BIN)/pytest -q -ra

schemas: install
	$(BIN)/needs-router schemas

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
