# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up by them.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint messages extract-messages worker bench-lookup clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $@

## The translations (locale/*/LC_MESSAGES/django.po), compiled; run by `run` and `test`.
messages: $(VENV)/.installed
	$(PY) scripts/compile_messages.py

## For translators: collect the marked strings into locale/*/django.po (needs GNU gettext).
extract-messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l zh_Hans -l vi --no-obsolete --ignore=.venv --ignore=tests \
		--ignore=benchmarks --ignore=test-artifacts --ignore=staticfiles

## Serve the portal on the embedded default (SQLite, eager tasks) with the demo loaded.
run: $(VENV)/.installed messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

## Run the tests on PostgreSQL and Redis when they answer (SQLite fallback, said loudly).
test: $(VENV)/.installed messages
	VENV=$(VENV) bash scripts/test.sh $(ARGS)

## Lint, import layers, types, system checks and migration drift: what CI runs besides the tests.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy portal accounts orders serials evidence inspection lookup approvals dossier scorecards demo untrusted
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

## A Celery worker for the configured broker (needs CELERY_BROKER_URL).
worker: $(VENV)/.installed
	$(VENV)/bin/celery -A portal worker --loglevel INFO --concurrency 2

## Customer-service lookup speed: gunicorn on PostgreSQL, 20 clients, and 100,000 in bulk.
bench-lookup: $(VENV)/.installed
	$(PY) benchmarks/lookup_bench.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts
