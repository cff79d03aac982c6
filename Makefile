# Two commands: `make run` sets everything up and serves the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DEV_ENV := NETTVERK_ENV=development

.PHONY: setup run test test-days e2e bench lint typecheck clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	$(DEV_ENV) $(BIN)/nettverk db upgrade
	$(DEV_ENV) $(BIN)/nettverk seed
	$(DEV_ENV) $(BIN)/nettverk demo
	@echo "nettverk kjører på http://127.0.0.1:5000, planleggeren ved siden av (stopp begge med Ctrl+C)"
	@# The scheduler runs in the background and is stopped (and its lease released) when the server stops.
	@$(DEV_ENV) $(BIN)/nettverk scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/flask --app nettverk run --host 127.0.0.1 --port 5000

# Two workers (pytest-xdist), one database each: the suite is bound by the CPU, and CI has two cores.
test: setup
	$(BIN)/python -m pytest -n 2

# The suite as if run on days where dates are tricky (year end, the DST nights, midsummer, late autumn, a leap day), to find
# tests that depend on the day they run. Not part of CI (six runs of the suite); run it after date logic changes.
TEST_DAYS := 2026-12-31T23:30:00+00:00 2027-01-01T00:10:00+00:00 2027-03-28T00:30:00+00:00 \
	2027-06-15T11:00:00+00:00 2027-10-31T00:30:00+00:00 2028-02-29T12:00:00+00:00
test-days: setup
	@for moment in $(TEST_DAYS); do echo "== $$moment"; \
		NETTVERK_TEST_NOW=$$moment $(BIN)/python -m pytest -n 2 || exit 1; done

# The benchmark (docs/PERFORMANCE.md): national dataset (cached in instance/bench/), pages on SQLite,
# feed polling under gunicorn on PostgreSQL (database nettverk_bench). BENCH_ARGS=--no-gunicorn skips the latter.
bench: setup
	$(BIN)/python -m nettverk.scale.bench $(BENCH_ARGS)

# Browser journeys and axe in Debian's chromium, on two workers; screenshots and axe-report.txt go to build/e2e/<time>/.
e2e: setup
	scripts/install-browser
	$(BIN)/python -m pytest -n 2 tests/e2e

# Lint and format check (CI runs it first).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy on the modules listed in pyproject.toml's [tool.mypy] (those clean so far; CI runs it after lint).
typecheck: setup
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance/*.db* .pytest_cache
