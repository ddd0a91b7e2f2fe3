# Thin aliases over the project's own tools. The README's two commands: `make run`, `make test`.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Rebuilt only when the dependencies change.
STAMP := $(VENV)/.installed-stamp
# Listed one by one so that a missing module fails the type check instead of passing unseen.
TYPED_PACKAGES := domain adapters ledger audit telemetry workflows activities store api pages office bench.chaos
TYPED_MODULES := cli cli_support setup_errors bootstrap audit_cli audit_commands doctor worker settings logs

.PHONY: all venv run test lint format types pytest bench bench-quick chaos clean distclean

all: test

# htmx and ECharts, pinned by package-lock.json, copied where the app serves them (nothing loads
# from a CDN). One `npm ci` installs both; ECharts is copied after it.
HTMX := pages/static/vendor/htmx.min.js
ECHARTS := pages/static/vendor/echarts.min.js

venv: $(STAMP) $(HTMX) $(ECHARTS)

$(HTMX): package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --silent
	mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(ECHARTS): package-lock.json $(HTMX)
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js $@

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "duban needs Python >= 3.11, but PYTHON=$(PYTHON) is: $$($(PYTHON) -V 2>&1 || echo missing)." >&2; \
		echo "Run with a newer one, e.g. make PYTHON=python3.11 $(MAKECMDGOALS)" >&2; \
		exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

run: venv
	$(BIN)/duban up

test: lint types pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

types: venv
	$(BIN)/mypy $(addprefix -p ,$(TYPED_PACKAGES)) $(addprefix -m ,$(TYPED_MODULES))

pytest: venv
	$(BIN)/pytest

bench: venv
	$(BIN)/python -m bench

bench-quick: venv
	$(BIN)/python -m bench --quick

# Kill -9 workers, API, Temporal and PostgreSQL under load; the table goes to bench/CHAOS.md.
chaos: venv
	$(BIN)/python -m bench.chaos --items 150 --faults 12

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules $(HTMX) $(ECHARTS)
