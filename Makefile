# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo test lint unit integration bench generate validate clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The explorer's browser tests drive Debian's Chromium (no browser download): install it if missing.
browser:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

demo: install
	$(BIN)/vcdb demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/vcdb schema validate

unit: install
	$(BIN)/pytest -q tests/unit

integration: install browser
	$(BIN)/pytest -q -m integration tests/integration

# One process: under pytest-xdist (-n 2, installed) two timing-bound tests flaked on a clean clone.
test: install browser lint
	$(BIN)/pytest -q tests

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

generate: install
	$(BIN)/vcdb schema generate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
