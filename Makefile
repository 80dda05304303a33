# needs-router: `make run` runs the whole pipeline, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit integration schemas clean test-tools

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

integration: install test-tools
	$(BIN)/pytest -m "integration or e2e" -q

test: lint test-tools
	$(BIN)/pytest -q -ra

# Debian tools some tests drive: Chromium with Thai fonts (the dashboard's browser test),
# shellcheck (the Kafka scripts) and wrk (the benchmark's HTTP load; without it the benchmark
# posts with its own h11 client). Installed only when missing, as root with apt-get; otherwise
# this says so and those tests fail with the same advice (they are never skipped).
CHROMIUM := /usr/bin/chromium
test-tools:
	@if [ -x $(CHROMIUM) ] && command -v shellcheck >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium, shellcheck and wrk for the tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium fonts-thai-tlwg fonts-liberation shellcheck wrk >/dev/null; } \
		|| echo "WARNING: could not install chromium, shellcheck or wrk; the tests that need them will fail"; \
	else \
		echo "WARNING: install chromium fonts-thai-tlwg shellcheck wrk as root, or the tests that need them will fail"; \
	fi

schemas: install
	$(BIN)/needs-router schemas

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
