# One obvious way to run, test and measure Confide.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help uv install infra run test test-fast lint format bench up down clean

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

test: install ## the whole suite against real PostgreSQL, RabbitMQ and OpenBao
	@bash infra/scripts/ensure-infra.sh --with-deploy-tools
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: install ## ruff
	@$(UV) run --frozen ruff check .

format: install ## apply ruff's fixes
	@$(UV) run --frozen ruff check --fix .

bench: install infra ## benchmarks: figures and ratios against in-process baselines
	@$(UV) run --frozen python -m bench

up: ## the platform under Docker Compose, for machines with Docker
	docker compose up --build

down: ## stop what `make up` started
	docker compose down

clean: ## remove the virtualenv and local state
	rm -rf .venv .run
