# One obvious way to run, test and measure Confide.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help uv install infra run test test-browser screenshots test-unit lint format bench load faults faults-short up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

uv: ## install uv if it is missing
	@command -v $(UV) >/dev/null 2>&1 || { \
	  echo "==> installing uv (from PyPI)"; \
	  python3 -m pip install --quiet --user --break-system-packages uv 2>/dev/null \
	    || python3 -m pip install --quiet --user uv; }

install: uv ## create .venv with every package of the workspace (from uv.lock)
	@echo "==> installing the workspace into .venv"
	@$(UV) sync --frozen --quiet

infra: ## make sure PostgreSQL and RabbitMQ are up (starts or installs them)
	@bash infra/scripts/ensure-infra.sh

run: install infra ## run the whole platform locally; Ctrl-C stops it
	@$(UV) run --frozen confide-stack up

test: install ## the whole suite against real PostgreSQL, RabbitMQ and OpenBao; then the console in Chromium
	@bash infra/scripts/ensure-infra.sh --with-deploy-tools
	@$(UV) run --frozen pytest $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-browser

# Playwright cannot run under eventlet: the browser tests are a pytest of their own, without our plugin
test-browser: install ## the console in a real Chromium: five kinds of user signed in, axe-core on every page
	@bash infra/scripts/ensure-infra.sh --with-deploy-tools
	@echo "==> the console in Chromium (tests/browser: starts the whole platform once, about two minutes)"
	@$(UV) run --frozen pytest -p no:confide tests/browser $(PYTEST_ARGS)

screenshots: install ## refresh the README's screenshots of the console (docs/console/), made by the browser tests
	@CONFIDE_SCREENSHOTS=docs/console $(UV) run --frozen pytest -p no:confide tests/browser -q

# where nothing listens: a unit test that reaches for PostgreSQL, RabbitMQ or OpenBao fails
CLOSED := 127.0.0.1:9
test-unit: install ## the pure tests (rules, policies, licensure, Merkle, money, coding): no infrastructure, seconds
	@CONFIDE_TEST_DATABASE_URL=postgresql://nobody@$(CLOSED)/none VAULT_ADDR=http://$(CLOSED) \
	  $(UV) run --frozen pytest -m unit -p no:randomly --amqp-uri pyamqp://guest:guest@$(CLOSED)// \
	  --rabbit-api-uri http://guest:guest@$(CLOSED) $(PYTEST_ARGS)

lint: install ## ruff
	@$(UV) run --frozen ruff check .

format: install ## apply ruff's fixes
	@$(UV) run --frozen ruff check --fix .

bench: install infra ## benchmarks: figures and ratios against baselines of the same run (NAME=audit: only that one)
	@$(UV) run --frozen python -m bench $(NAME)

load: install ## a clinic day through the gateway against `make run` (in another terminal): ARGS="--users 40 --seconds 60"
	@$(UV) run --frozen python -m bench.load $(ARGS)

faults: install infra ## the clinic day on a platform of its own while each fault strikes; every access held to the trail (~20 min)
	@$(UV) run --frozen python -m bench.faults $(ARGS)

faults-short: install infra ## the same, each fault for a few seconds under a light load (~3-5 min; also in `make test`)
	@$(UV) run --frozen python -m bench.faults --short $(ARGS)

COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

up: install ## the platform under Docker Compose (needs Docker): secrets in .secrets/, then build and start
	@$(UV) run --frozen python infra/compose/prepare.py .secrets
	$(COMPOSE) up --build --detach
	@echo "==> gateway on http://127.0.0.1:8000 once healthy ($(COMPOSE) ps); traces: http://127.0.0.1:16686"

down: ## stop what `make up` started (volumes kept; `$(COMPOSE) down -v` drops them)
	$(COMPOSE) down

clean: ## remove the virtualenv and local state
	rm -rf .venv .run
