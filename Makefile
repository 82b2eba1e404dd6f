# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install system-deps lint bench

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Pango (WeasyPrint), fonts, Chromium (browser tests) and poppler's pdfinfo (bench/chaos.py counts
# pages with a tool of its own) come from Debian; installed only when missing.
system-deps:
	@if ! ldconfig -p | grep -q libpango-1.0 || ! fc-list | grep -qi dejavu || [ ! -x /usr/bin/chromium ] || ! command -v pdfinfo >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-dejavu-extra chromium gettext poppler-utils >/dev/null; \
	  else echo "Install Pango, DejaVu fonts and Chromium (Debian: libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core chromium)"; fi; \
	fi

# Laptop mode: plain HTTP on 127.0.0.1, a demo login; unset, every setting is the server's.
run: install system-deps
	CAMPAIGNID_LAPTOP=1 $(BIN)/python manage.py serve

test: install system-deps
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/import_beneficiaries.py
