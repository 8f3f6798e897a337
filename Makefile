# Two commands for a new user: `make run` and `make test`. Everything else is plumbing.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REFLEX := $(VENV)/bin/reflex
BUN_DIR := .tools/bun
BUN_MIN := 1.4.4
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install install-dev bun chromium axe migrate lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: $(PY) requirements.lock pyproject.toml
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(PY) -m pip install -q -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Reflex can't download bun here: use one >= $(BUN_MIN) if present, else the npm package.
.tools/bun-path:
	@mkdir -p .tools
	@found=""; \
	for cand in "$$REFLEX_BUN_PATH" "$$(command -v bun 2>/dev/null)" "$$HOME/.bun/bin/bun"; do \
	  [ -n "$$cand" ] && [ -x "$$cand" ] || continue; \
	  v="$$("$$cand" --version 2>/dev/null)"; \
	  if [ -n "$$v" ] && [ "$$(printf '%s\n%s\n' "$(BUN_MIN)" "$$v" | sort -V | head -1)" = "$(BUN_MIN)" ]; then \
	    found="$$cand"; break; fi; \
	done; \
	if [ -z "$$found" ]; then \
	  echo "Installing bun from the npm registry into $(BUN_DIR)"; \
	  npm install --silent --no-audit --no-fund --prefix $(BUN_DIR) bun >/dev/null; \
	  found="$$(pwd)/$(BUN_DIR)/node_modules/.bin/bun"; \
	fi; \
	"$$found" --version >/dev/null && echo "$$found" > $@ && echo "bun: $$found"

bun: .tools/bun-path

migrate: install
	$(REFLEX) db migrate

# The start script (ai_chat/serve.py) migrates, then serves like `reflex run --env prod`
# with workers that respawn; Docker and the tests start the app the same way.
run: install bun
	REFLEX_BUN_PATH="$$(cat .tools/bun-path)" $(PY) -m ai_chat.serve

# Debian's Chromium for the browser tests (Playwright can't download browsers here).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium missing: run 'sudo apt-get install chromium'"; exit 1; fi; \
	fi
	@$(CHROMIUM) --version

# axe-core (npm) checks WCAG AA in the browser tests.
AXE_VERSION := 4.14.1
.tools/axe/node_modules/axe-core/axe.min.js:
	npm install --silent --no-audit --no-fund --prefix .tools/axe axe-core@$(AXE_VERSION) >/dev/null

axe: .tools/axe/node_modules/axe-core/axe.min.js

# The second pass runs the streaming state tests and the chat, Stop and live-tab browser tests
# again on the libraries' stock paths (README "Stock paths"; tests/llm runs both paths itself).
# The stock switches don't touch the state manager or Redis, so the Redis variants and the
# tests marked `redis` run in the first pass only. STOCK_TESTS= (empty) skips the pass.
STOCK_TESTS ?= tests/state/test_send_stream.py tests/state/test_stop_and_errors.py \
	tests/state/test_live_tabs.py tests/state/test_turn_actions.py tests/state/test_isolation.py \
	tests/e2e/test_chat_browser.py tests/e2e/test_stop_browser.py tests/e2e/test_live_tabs_browser.py

test: install-dev bun chromium axe
	$(VENV)/bin/ruff check ai_chat tests benchmarks rxconfig.py alembic/env.py
	$(VENV)/bin/mypy
	REFLEX_BUN_PATH="$$(cat .tools/bun-path)" $(PY) -m pytest $(PYTEST_ARGS)
	$(if $(strip $(STOCK_TESTS)),AI_CHAT_STOCK=1 REFLEX_BUN_PATH="$$(cat .tools/bun-path)" \
	  $(PY) -m pytest -k "not redis" $(STOCK_TESTS))

lint: install-dev
	$(VENV)/bin/ruff check ai_chat tests benchmarks rxconfig.py alembic/env.py
	$(VENV)/bin/mypy

clean:
	rm -rf .web .states .tools/bun-path
