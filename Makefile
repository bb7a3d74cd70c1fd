# Recherche UE-OIM — every target installs what it needs first.
PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
HOST     ?= 127.0.0.1
PORT     ?= 8000
WORKERS  ?= 2
# A load balancer in front of this replica (address or CIDR): see the README's scale-out section.
TRUSTED_PROXY ?=
# make run's logs: access.log and searches.jsonl there, rotated by size; `make run LOG_DIR=` for stdout/stderr.
LOG_DIR  ?= var/log
export SEARCH_INDEX_DIR ?= var/index
CHROMIUM ?= $(shell command -v chromium 2>/dev/null)
# The W3C Nu HTML checker (npm vnu-jar, pinned; run with Java) for tests/test_html_validity.py.
VNU_VERSION := 26.9.27
VNU_DIR  := $(VENV)/node
export VNU_JAR ?= $(VNU_DIR)/node_modules/vnu-jar/build/dist/vnu.jar
VNU_STAMP := $(VNU_DIR)/.installed-$(VNU_VERSION)

.DEFAULT_GOAL := help
.PHONY: help install index nginx run dev test test-fast lint bench browser html-checker clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(STAMP) ## create .venv and install the project with its test extra

index: install ## build the index from corpus/ (skipped when nothing changed)
	$(BIN)/python -m indexer build

# nginx's headers-more module (Debian package libnginx-mod-http-headers-more-filter): no Server header.
HEADERS_MORE := /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so

nginx: ## install Debian's nginx and its headers-more module for `make run` (needs root and apt-get)
	@if { ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; } || [ ! -f $(HEADERS_MORE) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing nginx and its headers-more module (Debian packages)…"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx libnginx-mod-http-headers-more-filter || \
			echo "nginx could not be installed: make run will serve with gunicorn alone."; \
		else \
			echo "nginx or its headers-more module is missing and cannot be installed here (needs root and" \
				"apt-get): without nginx, make run serves with gunicorn alone, without its protection against" \
				"slow clients; without the module, nginx sends « Server: nginx »."; \
		fi; \
	fi

run: index nginx ## install, build the index if needed, serve on $(HOST):$(PORT): nginx in front of gunicorn
	$(BIN)/python -m search_app.serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --log-dir "$(LOG_DIR)" \
		$(if $(TRUSTED_PROXY),--trusted-proxy $(TRUSTED_PROXY))

dev: index ## Flask's development server with the debugger (never in production)
	$(BIN)/flask --app search_app run --debug --host $(HOST) --port $(PORT)

browser: ## install Debian's Chromium for the browser tests (needs root)
	@if [ -z "$(CHROMIUM)" ]; then \
		echo "Installing chromium (Debian package)…"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

$(VNU_STAMP):
	@if ! command -v java >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "Installing Java and npm for the Nu HTML checker (Debian packages)…"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q default-jre-headless npm; \
	fi
	npm install --silent --no-audit --no-fund --prefix $(VNU_DIR) vnu-jar@$(VNU_VERSION)
	touch $@

html-checker: $(VNU_STAMP) ## install the W3C Nu HTML checker (needs Java and npm; root installs them)

lint: install ## ruff, then mypy on indexer/ and search_app/
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint browser html-checker nginx ## lint, then the whole test suite (browser tests included)
	$(BIN)/python -m pytest

test-fast: lint html-checker nginx ## the inner loop: every test but the browser and load tests
	$(BIN)/python -m pytest -m "not browser and not slow"

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

bench: $(BENCH_STAMP) ## benchmark at 1k/10k/100k records (long: see benchmarks/README.md)
	$(BIN)/python -m benchmarks

clean: ## remove the virtualenv, indexes and caches
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis test-artifacts *.egg-info
