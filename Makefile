# The two commands of the README. Both set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test lint typecheck unit browser-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)
	$(BIN)/offramp demo

# System packages the tests drive for real: Debian's Chromium + ChromeDriver (browser tests),
# poppler-utils (pdftotext/pdftoppm, to read the PDF report back) and nginx (the auth_request
# integration recipe is run, not just shown).
SYSTEM_PACKAGES := chromium chromium-driver poppler-utils nginx
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v pdftotext >/dev/null \
		&& [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's $(SYSTEM_PACKAGES) for the browser and PDF tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else \
		echo "The browser and PDF tests need Debian's $(SYSTEM_PACKAGES):"; \
		echo "  sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# axe-core (accessibility checker injected by the browser tests) from the npm registry.
AXE := $(VENV)/npm/node_modules/axe-core/axe.min.js
$(AXE):
	@command -v npm >/dev/null || { echo "The accessibility tests need npm (Debian: apt-get install npm)"; exit 1; }
	npm install --prefix $(VENV)/npm --no-audit --no-fund --silent axe-core@4

# The PostgreSQL tests use OFFRAMP_TEST_POSTGRES_URL. When it is unset and the PostgreSQL server of
# the project's machines answers (127.0.0.1:5432, trust auth, database test), that one is used, so
# the README's one command runs them too; elsewhere they are skipped with a line saying why.
LOCAL_POSTGRES := postgresql://postgres@127.0.0.1:5432/test
unit: $(STAMP) browser-deps $(AXE)
	@if [ -z "$$OFFRAMP_TEST_POSTGRES_URL" ] && $(BIN)/python -c "import psycopg; \
		psycopg.connect('$(LOCAL_POSTGRES)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL tests: using $(LOCAL_POSTGRES)"; \
		export OFFRAMP_TEST_POSTGRES_URL="$(LOCAL_POSTGRES)"; \
	fi; \
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache offramp-demo
