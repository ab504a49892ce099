# supportdesk: `make run` to serve, `make test` to check everything.
# Every set-up step lives here or in scripts/, so a fresh machine needs nothing else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NPM_STAMP := node_modules/.installed-stamp

.PHONY: run setup test lint typecheck unit test-deps messages bench cluster clean applet

# serve prints the next steps (the first agent account, the addresses) before its logs.
run: setup
	@$(BIN)/supportdesk db upgrade
	@$(BIN)/supportdesk serve

setup: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev]'
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-deps:
	scripts/install-test-deps.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -m "not browser and not desktop" -q

test: setup test-deps lint typecheck
	$(BIN)/pytest

# Re-extract the message catalogue after changing customer-facing text, then
# translate the new entries in src/supportdesk/locale/de/LC_MESSAGES/messages.po.
messages: setup
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --omit-header --sort-output -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d src/supportdesk/locale -l de -w 100

bench: setup test-deps
	scripts/install-bench-deps.sh
	$(BIN)/python -m bench
	$(BIN)/python -m bench.relay --markdown docs/benchmarks.md
	$(BIN)/python -m bench.recording --markdown docs/benchmarks.md
	$(BIN)/python -m bench.browser_share --markdown docs/benchmarks.md
	$(BIN)/python -m bench.rfb_browser --markdown docs/benchmarks.md
	$(BIN)/python -m bench.resume --markdown docs/benchmarks.md
	$(BIN)/python -m bench.cluster --markdown docs/benchmarks.md

# Three nodes and HAProxy on loopback, on the PostgreSQL and Redis configured by
# SUPPORTDESK_DATABASE_URL and SUPPORTDESK_BUS_REDIS_URL (default: the local ones).
cluster: setup test-deps
	$(BIN)/python -m scripts.make_cluster

# The support program as one file for this OS, for the bank named by CONFIG (a TOML file
# like deploy/applet-bank.toml.example): dist/supportdesk-join-linux (on Windows
# supportdesk-join-windows.exe, on macOS supportdesk-join-macos.zip). It builds in a venv
# of its own under var/applet-build/ with the program's dependencies only.
applet:
	$(PYTHON) -m scripts.build_applet $(if $(CONFIG),--config '$(CONFIG)')

clean:
	rm -rf $(VENV) node_modules var/test-*
