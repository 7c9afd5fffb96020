# The two commands: `make run` and `make test`. Everything they need, they install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
STORE ?= data/wijkplan.gpkg
MAPS := data/maps/index.html
STAMP := $(VENV)/.installed
JS_STAMP := node_modules/.installed
# Debian/Ubuntu packages: npm installs Leaflet for the maps; the tests need PostgreSQL with PostGIS
# (they start their own cluster), Chromium (the maps are tested in it) and QGIS for the system
# Python (the QGIS project is opened in it).
SETUP_PACKAGES := npm
TEST_PACKAGES := postgresql-postgis chromium python3-qgis
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BENCH_VENV := .venv-bench
SIZES ?= 100000,1000000
SCALE_SIZES ?= 100000
NATIONAL ?= 10000000
DERIVED_SIZES ?= 100000:both,1000000:postgis
# Test processes side by side (each starts its own PostgreSQL cluster); 1 runs the suite in one.
TEST_WORKERS ?= 2

.PHONY: run test lint setup system-packages demo maps lock clean benchmark benchmark-scale benchmark-national benchmark-derived benchmark-maps benchmark-stalling benchmark-pages benchmark-webhooks

run: setup $(STORE) $(MAPS)
	$(BIN)/geoservice --store $(STORE) serve --host $(HOST) --port $(PORT)

test: setup system-packages lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Style, and the layering of the package's rooms (the import contract in pyproject.toml).
lint: setup
	$(BIN)/ruff check geoservice tests benchmarks
	$(BIN)/ruff format --check geoservice tests benchmarks
	$(BIN)/lint-imports

# Install those of the Debian packages given that are missing.
define apt-install
	missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

system-packages:
	@$(call apt-install,$(TEST_PACKAGES))

setup: $(STAMP) $(JS_STAMP)

$(JS_STAMP): package-lock.json
	@$(call apt-install,$(if $(shell command -v npm),,$(SETUP_PACKAGES)))
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Python >= 3.12 is needed (see .python-version)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(STORE): | setup
	$(BIN)/geoservice --store $(STORE) demo --if-missing

$(MAPS): | setup $(STORE)
	$(BIN)/geoservice --store $(STORE) maps

# Side-by-side benchmark with stock pygeoapi and tipg (installed apart, in $(BENCH_VENV)).
benchmark: setup system-packages $(BENCH_VENV)/.installed
	$(BIN)/python benchmarks/run.py --sizes $(SIZES) --baseline-python $(BENCH_VENV)/bin/python

# 1 against 2 workers, and vector tiles against tipg's (wrk from Debian generates the load).
benchmark-scale: setup system-packages $(BENCH_VENV)/.installed
	@$(call apt-install,wrk)
	$(BIN)/python benchmarks/scale.py --sizes $(SCALE_SIZES) --baseline-python $(BENCH_VENV)/bin/python

# Derived data under writes: 100k projects and proposals on both backends, then 1M on PostGIS.
benchmark-derived: setup system-packages
	$(BIN)/python benchmarks/derived.py --sizes $(DERIVED_SIZES)

# Ten million projects on PostGIS, built once and kept in benchmarks/data/national/.
benchmark-national: setup system-packages
	$(BIN)/python benchmarks/national.py --size $(NATIONAL)

# Build time and file sizes of all maps, for the demo data and a data set ten times as dense, and what
# one change costs the map builder; then reads and creates under write bursts with and without maps
# (SOURCES: other checkouts beside this one).
benchmark-maps: setup
	$(BIN)/python benchmarks/maps.py $(foreach s,$(SOURCES),--source $(s))
	$(BIN)/python benchmarks/bursts.py $(foreach s,$(SOURCES),--source $(s))

# Latency of a simple read while one client streams an endless header or a crowd holds 1 000
# half-open connections (SOURCES: other checkouts to compare side by side).
benchmark-stalling: setup
	$(BIN)/python benchmarks/stalling.py $(foreach s,$(SOURCES),--source $(s))

# Weight and load time of every page type in Chromium without network, on a desktop and a phone.
benchmark-pages: setup system-packages
	$(BIN)/python benchmarks/pages.py

# Webhooks: change-to-delivery latency and deliveries per second, 100 subscriptions.
benchmark-webhooks: setup
	$(BIN)/python benchmarks/webhooks.py

$(BENCH_VENV)/.installed: benchmarks/requirements.lock
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r benchmarks/requirements.lock
	touch $@

demo: setup
	$(BIN)/geoservice --store $(STORE) demo --force
	$(BIN)/geoservice --store $(STORE) maps

maps: setup
	$(BIN)/geoservice --store $(STORE) maps

# Re-resolve the pinned versions after changing dependencies in pyproject.toml.
lock: setup
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --extra notebooks --python-version 3.12 -o requirements.lock
	$(BIN)/uv pip compile benchmarks/requirements.in --python-version 3.12 -o benchmarks/requirements.lock

clean:
	rm -rf $(VENV) $(BENCH_VENV) node_modules data/maps $(STORE) $(STORE)-wal $(STORE)-shm
