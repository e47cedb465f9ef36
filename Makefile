# One way to do each thing; CI runs the same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install browser system-packages run test lint bench clean-data

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Bring the workspace up: embedded PostgreSQL, migrations, demo data, web server and worker.
run: install
	$(BIN)/python manage.py up

## Headless Chromium for the browser tests: Debian's package (Playwright's own browser downloads are not
## used). Installed when missing and we are root (CI); elsewhere it says how, and those tests fail.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install chromium' for the browser tests"; \
	  fi; }

## Debian packages of the other local counterparts the tests use (IMAP and Redis servers, poppler, zbar) and of
## WeasyPrint (pango): scripts/system-packages.sh.
system-packages:
	@scripts/system-packages.sh

## The whole test suite, on a throw-away embedded PostgreSQL.
test: install browser system-packages
	$(BIN)/python -m pytest

## Style (ruff) and the architecture's import contracts (import-linter, pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: install system-packages
	$(BIN)/python -m bench

## Delete the local workspace data (database, files, secret key). Stop `make run` first.
clean-data:
	rm -rf var
