# The two commands a newcomer needs: `make demo` runs it all, `make test` checks it all.
# Both create the virtualenv and make RabbitMQ and Redis reachable first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help install lock services tools demo run test tests test-cluster lint format unit clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

install: $(VENV)/.installed  ## virtualenv with revotp and its test tools

# Every dependency comes from requirements/test.txt, pinned and hash-checked (the image installs
# requirements/runtime.txt the same way); `make lock` renews both from pyproject.toml. uv installs
# the same packages as pip in a few seconds instead of half a minute; where uv cannot be
# fetched, pip does the install. Bytecode is compiled at install, as pip does: with
# PYTHONDONTWRITEBYTECODE set, every test subprocess would otherwise compile its imports anew.
$(VENV)/.installed: pyproject.toml requirements/test.txt
	$(PYTHON) -m venv $(VENV)
	( $(BIN)/pip install --quiet uv \
	  && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r requirements/test.txt \
	  && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e . ) \
	|| ( $(BIN)/pip install --quiet --require-hashes -r requirements/test.txt && $(BIN)/pip install --quiet --no-deps -e . )
	touch $@

lock: install  ## pin every dependency, with hashes, from pyproject.toml (requirements/*.txt)
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --quiet -o requirements/runtime.txt
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --generate-hashes --quiet -o requirements/test.txt

services:  ## start RabbitMQ and Redis unless they already listen
	bin/ensure-services

tools:  ## the browser, QR decoder and valgrind the tests drive (Debian packages)
	bin/ensure-tools

demo: install services  ## the whole pipeline in one process, with a demo tenant
	$(BIN)/revotp demo

run: install services  ## the whole pipeline in one process, configured by REVOTP_* only
	$(BIN)/revotp all

test: install services tools  ## lint, types, and every test (unit + integration), side by side
	$(MAKE) --no-print-directory --jobs=2 --output-sync=target lint tests

# The cluster test runs a dozen broker processes and five services on its own: beside the
# parallel tests it would starve them into timeouts, so it comes after them, alone.
tests: install services tools  ## every test, in parallel processes (no lint)
	$(BIN)/pytest -n auto --dist worksteal -m "not clusters"
	$(BIN)/pytest -m clusters

test-cluster: install services  ## the integration tests again, on a private Redis Cluster
	$(BIN)/python -m tests.support.redis_cluster $(BIN)/pytest -n auto --dist worksteal -m "not single_redis" tests/integration

unit: install tools  ## only the tests that need no services (promtool checks the alert rules)
	$(BIN)/pytest -m "not services"

lint: install  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
