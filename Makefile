# The commands the README names. Each one sets up what it needs on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
STAMP := $(VENV)/.installed
MO := locale/ru/LC_MESSAGES/django.mo
# The suite runs on two processes (pytest-xdist), each with its own test database: `PYTEST_WORKERS=0`
# runs it in one. With --dist worksteal a process out of tests takes some of the other's, so both stay busy.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
CHROMIUM ?= /usr/bin/chromium
# Where `make demo` serves: `make demo PORT=8080` (HOST=0.0.0.0 to reach it from another machine).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test test-fast lint messages bench bench-load system-deps compose-check clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(MO)

# Debian packages the tests need: Chromium for browser tests, poppler for checking PDFs, fonts
# with Cyrillic glyphs for WeasyPrint, Dovecot as the IMAP server the support mailbox tests read.
# Installed only when missing (needs root, as on CI).
system-deps:
	@missing=""; \
	test -x $(CHROMIUM) || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	test -d /usr/share/fonts/truetype/liberation2 || missing="$$missing fonts-liberation2"; \
	test -x /usr/sbin/dovecot || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

# The compiled catalogue is built from the .po, never committed (a committed one goes stale).
$(MO): locale/ru/LC_MESSAGES/django.po $(STAMP)
	$(MANAGE) compilemessages --ignore=.venv -v0

demo: $(STAMP) $(MO)
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --url http://$(HOST):$(PORT)/
	@echo "Starting the web server on http://$(HOST):$(PORT)/ with the Celery worker and beat (Ctrl-C stops all)."
	@$(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2 >var/worker.log 2>&1 & worker=$$!; \
	$(VENV)/bin/celery -A config beat --loglevel=INFO >var/beat.log 2>&1 & beat=$$!; \
	stop() { \
		trap - INT TERM EXIT; \
		kill -TERM $$worker $$beat 2>/dev/null; \
		for _ in $$(seq 40); do kill -0 $$worker 2>/dev/null || break; sleep 0.25; done; \
		kill -KILL $$worker $$beat 2>/dev/null; \
		wait 2>/dev/null; echo "Stopped the web server, the worker and beat."; \
	}; \
	trap stop INT TERM EXIT; \
	PORTAL_BASE_URL=http://$(HOST):$(PORT) $(MANAGE) runserver $(HOST):$(PORT) --noreload

# The whole suite. With DATABASE_URL and REDIS_URL set it runs on PostgreSQL with a real worker on
# Redis; with CI=true a missing PostgreSQL, Redis or Chromium fails the run instead of skipping.
test: $(STAMP) $(MO) system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy config partner_portal subscriptions billing tickets escalation dashboards
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Benchmarks against PostgreSQL (DATABASE_URL); results are recorded in docs/benchmarks.md.
bench: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make bench needs DATABASE_URL (PostgreSQL)"; exit 1; }
	$(MANAGE) migrate --noinput -v0
	$(PY) bench/customer_list.py
	$(PY) bench/pdf_export.py
	$(PY) bench/partner_center_sync.py
	$(PY) bench/collections.py
	$(PY) bench/lists.py
	$(PY) bench/collections_overview.py

# Optional, after `make bench` has seeded the data set: gunicorn under locust (bench/load.py).
bench-load: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make bench-load needs DATABASE_URL (PostgreSQL)"; exit 1; }
	$(PY) bench/load.py

# The Docker Compose stack end to end (build, health, sign-in, a PDF export in the worker, beat's
# schedule, data kept across down/up), under a project of its own that it removes afterwards. Prints
# "skipped" and succeeds where Docker or Compose is missing or the daemon does not answer. Not part of
# `make test`. See docs/operations.md, "Before an upgrade".
compose-check:
	python3 scripts/compose_check.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy config partner_portal subscriptions billing tickets escalation dashboards

messages: $(STAMP)
	$(MANAGE) makemessages -l ru --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(MANAGE) compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache
