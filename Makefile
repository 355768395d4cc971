# Two commands for a newcomer:  make demo   (set up + demo data + server)   make test   (the suite)
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: venv requirements demo test test-fast screenshots lint format e2e bench mutation clean

# requirements/dev.txt = the runtime set (requirements/runtime.txt, what the image installs) + test tools,
# both pinned with hashes; edit requirements/*.in and run `make requirements` to regenerate them.
$(BIN)/.installed: requirements/dev.txt requirements/runtime.txt
	@command -v $(PY) >/dev/null || { echo "需要 Python 3.11 ($(PY))"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements/dev.txt
	touch $@

venv: $(BIN)/.installed

PIP_COMPILE = var/pip-tools/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-find-links --no-emit-index-url --no-emit-trusted-host
requirements:
	test -x var/pip-tools/bin/pip-compile || { $(PY) -m venv var/pip-tools && var/pip-tools/bin/pip install -q pip-tools; }
	$(PIP_COMPILE) -o requirements/runtime.txt requirements/runtime.in
	$(PIP_COMPILE) -o requirements/dev.txt requirements/dev.in

demo: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --size 20000 --seed 42
	@echo ""
	@echo "  打开 http://127.0.0.1:$(PORT)/  (演示账号见上方)"
	@echo ""
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Quick loop while editing: no browser journeys, no real workers, nothing marked slow (markers: tests/conftest.py).
test-fast: venv
	$(BIN)/python -m pytest -m "not e2e and not slow and not redis" $(PYTEST_ARGS)

e2e: venv
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

# Rewrites the README's screenshots in docs/screenshots/ (other runs write them to var/screenshots/).
screenshots: venv
	SCREENSHOTS=1 $(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

# Benchmarks need the local PostgreSQL (each script uses its own database); figures: docs/benchmarks.md
bench: venv
	createdb -h 127.0.0.1 -U postgres jiupian_bench_ingest 2>/dev/null || true
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiupian_bench_ingest $(BIN)/python manage.py migrate --noinput -v 0
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiupian_bench_ingest $(BIN)/python bench/import_bench.py --rows 200000 1000000 --format csv
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiupian_bench_ingest $(BIN)/python bench/import_bench.py --rows 200000 --format xlsx
	$(BIN)/python bench/detect_bench.py 200000 1000000
	$(BIN)/python bench/export_bench.py 100000
	@echo "Load test (seeds 1M listings first): see bench/load_review.py and docs/benchmarks.md"

# Mutation testing (mutmut 2.5; not in CI: tens of minutes). Each module is mutated one change at a
# time against the test files that pin it; scores and the equivalent survivors: docs/testing.md.
# `make mutation MODULE=limits` runs one module. Pytest runs without plugin autoload (and the pure
# modules without conftest/Django): a second per mutant instead of ten.
MUTMUT = PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 nice -n 15 $(BIN)/mutmut run --no-progress --simple-output --CI
PYTEST_PURE = $(BIN)/python -m pytest -x -q -p no:cacheprovider --noconftest
PYTEST_DB = $(BIN)/python -m pytest -x -q -p no:cacheprovider -p pytest_django.plugin
MUTATION_MODULES = specs conversion limits benchmark workflow decisions
MUT_specs = catalogue/specs.py|$(PYTEST_PURE) tests/catalogue/test_specs_branches.py tests/pricing/test_rule_branches.py
MUT_conversion = pricing/engine/conversion.py|$(PYTEST_PURE) tests/pricing/test_conversion.py \
  tests/pricing/test_conversion_branches.py tests/pricing/test_limits_branches.py
MUT_limits = pricing/engine/limits.py|$(PYTEST_PURE) tests/pricing/test_conversion.py tests/pricing/test_limits_branches.py \
  tests/pricing/test_reference_e4.py
MUT_benchmark = pricing/engine/benchmark.py|$(PYTEST_PURE) tests/pricing/test_benchmark_branches.py \
  tests/pricing/test_benchmark_routing.py tests/pricing/test_rule_branches.py
MUT_workflow = appeals/workflow.py|$(PYTEST_DB) tests/appeals/test_workflow_branches.py tests/appeals/test_deadline.py
# the decision service: only the test files that target it (SQLite, a few seconds per mutant)
MUT_decisions = pricing/review/decisions.py|$(PYTEST_DB) tests/review/test_decisions_branches.py \
  tests/review/test_decisions.py tests/review/test_invariants.py

mutation: venv
	@for m in $(or $(MODULE),$(MUTATION_MODULES)); do \
	  case $$m in \
	    specs) spec='$(MUT_specs)';; conversion) spec='$(MUT_conversion)';; limits) spec='$(MUT_limits)';; \
	    benchmark) spec='$(MUT_benchmark)';; workflow) spec='$(MUT_workflow)';; \
	    decisions) spec='$(MUT_decisions)';; *) echo "unknown module $$m"; exit 1;; \
	  esac; \
	  path=$${spec%%|*}; runner=$${spec#*|}; echo "== $$path: $$runner"; \
	  $(MUTMUT) --paths-to-mutate $$path --runner "$$runner" || exit 1; \
	done
	$(BIN)/mutmut results

clean:
	rm -rf var .pytest_cache
