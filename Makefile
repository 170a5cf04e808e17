# Zhiku: the commands a person runs are the commands CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KB ?= kb
OUT ?= site
PORT ?= 8000
FORMAT ?= text
BASE ?= origin/main

.PHONY: help install test-deps test test-fast adopt-check lint typecheck validate build \
        build-public build-staff serve ci bench clean diff

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

install: $(BIN)/.installed ## create .venv with the kb command and test tools

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

test-deps: install ## install system packages the tests need (chromium, CJK fonts)
	@scripts/install-test-deps.sh

# pytest-xdist: one worker per core and one more, since many tests wait on a browser,
# a server or git (measured on 2 cores: 160 s with 3 workers, 185 s with 2, 168 s
# with 4); a module's tests stay on one worker, so module fixtures (a built site, a
# running app) are set up once.
# The cores this process may use (a container's cpuset), as xdist's own `auto` counts.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; f = getattr(os, "sched_getaffinity", None); print((len(f(0)) if f else os.cpu_count() or 1) + 1)')
PYTEST_PARALLEL ?= -n $(PYTEST_WORKERS) --dist loadscope

test: test-deps ## run the whole test suite, in parallel
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

test-fast: install ## the tests that are neither slow nor browser (about a minute)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow and not browser"

adopt-check: install ## clone HEAD, replace kb/ with a gym's KB, make validate build test-fast there
	VENV=$(VENV) scripts/adopt-check.sh

lint: install ## ruff lint and format check
	$(BIN)/ruff check tooling feedback_app tests benchmarks
	$(BIN)/ruff format --check tooling feedback_app tests benchmarks

typecheck: install ## mypy over tooling/ and feedback_app/
	$(BIN)/mypy

validate: install ## validate the knowledge base (FORMAT=text|json|github)
	$(BIN)/kb validate --kb $(KB) --format $(FORMAT)

diff: install ## Markdown list of entries changed since BASE (default origin/main)
	@$(BIN)/kb diff $(BASE) HEAD --kb $(KB) --format markdown

build: build-public build-staff ## build both sites into $(OUT)/public and $(OUT)/staff

build-public: install
	$(BIN)/kb build --kb $(KB) --audience public --out $(OUT)/public

build-staff: install
	$(BIN)/kb build --kb $(KB) --audience staff --out $(OUT)/staff

serve: install ## build and serve the staff site with live reload on http://127.0.0.1:$(PORT)
	$(BIN)/kb serve --kb $(KB) --port $(PORT)

ci: lint typecheck validate test build ## everything CI runs, locally

bench: install ## run the benchmarks (slow; prints figures)
	$(BIN)/python benchmarks/run_all.py $(BENCH)

clean: ## remove build output and caches
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
