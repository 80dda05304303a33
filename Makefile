# needs-router: `make run` runs the whole pipeline, `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint unit integration schemas clean test-tools lock check-lock asyncapi-parser

install: $(STAMP)

# Installs exactly the locks (hash-checked), then the project without resolving anything, and
# removes whatever the locks no longer name. Runs again only when a lock or pyproject.toml changes.
LOCKS := requirements/build.txt requirements/dev.txt
PIP := python -m pip install --quiet --disable-pip-version-check
$(STAMP): pyproject.toml $(LOCKS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP) --require-hashes --no-deps -r requirements/build.txt
	$(BIN)/$(PIP) --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/$(PIP) --no-deps --no-build-isolation -e .
	$(BIN)/python deploy/locked_set.py --remove-unlocked $(LOCKS)
	touch $(STAMP)

# The locks, from pyproject.toml, by the uv that requirements/lock-tools.txt pins. Pins already in
# a lock are kept: after adding a dependency, `make lock` adds it and what it needs, nothing else;
# `make lock UPGRADE=--upgrade` moves everything to the newest versions that fit. dev.txt (every
# extra: what `make install` and the tests use) is resolved first and runtime.txt (the image)
# within it, so the image runs the versions the tests ran. Resolved for the image's platform,
# whatever machine runs it.
LOCK_TOOLS := .venv-lock
UV := $(LOCK_TOOLS)/bin/uv
COMPILE = $(UV) pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" $(UPGRADE)
$(UV): requirements/lock-tools.txt
	test -x $(LOCK_TOOLS)/bin/python || $(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/$(PIP) --require-hashes --no-deps -r requirements/lock-tools.txt
	touch $(UV)

lock: $(UV)
	$(COMPILE) pyproject.toml --all-extras -o requirements/dev.txt
	$(COMPILE) pyproject.toml --constraints requirements/dev.txt -o requirements/runtime.txt
	$(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], "pip", sep="\n")' \
		| $(COMPILE) - -o requirements/build.txt

# The strict check: a new venv installed from the locks as `make install` does holds exactly them.
check-lock:
	rm -rf $(VENV)-check && $(PYTHON) -m venv $(VENV)-check
	$(VENV)-check/bin/$(PIP) --require-hashes --no-deps -r requirements/build.txt
	$(VENV)-check/bin/$(PIP) --require-hashes --no-deps -r requirements/dev.txt
	$(VENV)-check/bin/$(PIP) --no-deps --no-build-isolation -e .
	$(VENV)-check/bin/python deploy/locked_set.py $(LOCKS)
	rm -rf $(VENV)-check

run: install
	$(BIN)/needs-router up

lint: install
	$(BIN)/ruff check services shared benchmark training tests
	$(BIN)/ruff format --check services shared benchmark training tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/needs-router schemas --check

unit: install
	$(BIN)/pytest -m unit -q

integration: install test-tools asyncapi-parser
	$(BIN)/pytest -m "integration or e2e" -q

test: lint test-tools asyncapi-parser
	$(BIN)/pytest -q -ra

# Debian tools some tests drive: Chromium with Thai fonts (the dashboard's browser test),
# shellcheck (the Kafka scripts), wrk (the benchmark's HTTP load; without it the benchmark
# posts with its own h11 client) and promtool from Debian's prometheus (the alert rules' tests). Installed only when missing, as root with apt-get; otherwise
# this says so and those tests fail with the same advice (they are never skipped).
CHROMIUM := /usr/bin/chromium
test-tools:
	@if [ -x $(CHROMIUM) ] && command -v shellcheck >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 \
		&& command -v promtool >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium, shellcheck, wrk and prometheus (promtool) for the tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium fonts-thai-tlwg fonts-liberation shellcheck wrk prometheus >/dev/null; } \
		|| echo "WARNING: could not install chromium, shellcheck, wrk or prometheus; the tests that need them will fail"; \
	else \
		echo "WARNING: install chromium fonts-thai-tlwg shellcheck wrk prometheus as root, or the tests that need them will fail"; \
	fi

# The official AsyncAPI parser (npm) that a test runs on the AsyncAPI document, at the versions
# the committed lock names; reinstalled only when the lock changes.
ASYNCAPI_PARSER := tests/tools/asyncapi
asyncapi-parser: $(ASYNCAPI_PARSER)/node_modules/.installed

$(ASYNCAPI_PARSER)/node_modules/.installed: $(ASYNCAPI_PARSER)/package-lock.json
	cd $(ASYNCAPI_PARSER) && npm ci --silent
	touch $@

schemas: install
	$(BIN)/needs-router schemas

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) build *.egg-info .pytest_cache .mypy_cache .ruff_cache $(ASYNCAPI_PARSER)/node_modules
