# needs-router: `make run` runs the whole pipeline, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit integration e2e schemas clean browser

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

integration: install browser
	$(BIN)/pytest -m "integration or e2e" -q

test: lint browser
	$(BIN)/pytest -q -ra

# The dashboard's browser test (tests/e2e/test_dashboard_browser.py) drives Debian's Chromium, with
# Thai fonts for its screenshots. Installed only when missing, as root with apt-get; otherwise
# this says so and that test fails with the same advice (it is never skipped).
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the dashboard's browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium fonts-thai-tlwg fonts-liberation >/dev/null; } \
		|| echo "WARNING: could not install chromium; the dashboard's browser test will fail"; \
	else \
		echo "WARNING: $(CHROMIUM) is missing; install it as root (apt-get install chromium fonts-thai-tlwg)" \
			"or the dashboard's browser test will fail"; \
	fi

schemas: install
	$(BIN)/needs-router schemas

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
