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
PROFILE_PLUGINS := $(HOME)/.local/share/QGIS/QGIS3/profiles/default/python/plugins
TS := $(wildcard i18n/*.ts)
QM := $(TS:.ts=.qm)

.PHONY: setup test test-all lint ts qm package deploy qgis bench bench-store bench-rasters models bench-models bench-verify bench-media bench-import bench-geoloc bench-matchers demo sample screenshots clean

setup:
	bash scripts/setup.sh

test:
	$(PY) -m pytest -q -m "not slow" tests

test-all:
	$(PY) -m pytest -q tests

lint:
	$(PY) -m ruff check mist_qgis tests bench scripts models

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
	find $(BUILD) -name '__pycache__' -prune -exec rm -rf {} + ; find $(BUILD) -name '*.py[co]' -delete
	cd $(BUILD_DIR) && zip -qr $(abspath $(DIST)) $(PLUGIN)
	$(PY) scripts/check_package.py $(DIST)

deploy: package
	rm -rf $(PROFILE_PLUGINS)/$(PLUGIN) && mkdir -p $(PROFILE_PLUGINS)
	cp -r $(BUILD) $(PROFILE_PLUGINS)/$(PLUGIN)
	$(PY) scripts/enable_plugin.py $(PLUGIN)
	@echo "installed into $(PROFILE_PLUGINS)/$(PLUGIN)"

qgis: deploy
	env -u QT_QPA_PLATFORM PYTHONPATH=$$($(PY) -c 'import site; print(site.getsitepackages()[0])') qgis

bench: bench-store bench-rasters bench-models bench-verify bench-media bench-import bench-geoloc bench-matchers

bench-import:
	$(PY) bench/bench_import.py $(BENCH_ARGS)

bench-store:
	$(PY) bench/bench_store.py

bench-rasters:
	$(PY) bench/bench_rasters.py

# Every ONNX model the demo and the default matcher need, from registry packages (torch, kornia and
# transformers are build-time tools only): ImageNet backbone, DISK + LightGlue, post text embeddings.
models:
	$(PY) models/export_efficientnet_lite0.py --out models/build
	$(PY) models/export_matchers.py --out models/build
	$(PY) models/export_minilm.py --out models/build

DEMO_MODELS := models/build/efficientnet-lite0.onnx models/build/disk.onnx models/build/lightglue-disk.onnx

$(DEMO_MODELS) &:
	$(MAKE) models

# The whole job on resources/sample/, headless: table, store, rasters and build/demo/flood_map.png.
demo: $(DEMO_MODELS)
	$(PY) scripts/demo.py

# Rewrite the committed sample and the Processing model (resources/mist_demo.model3).
sample:
	$(PY) scripts/make_sample.py
	$(PY) scripts/make_demo_model.py

# Screenshots of the real QGIS window (under Xvfb) for the README and docs/.
screenshots: package
	$(PY) scripts/screenshots.py --out docs/img

bench-models:
	$(PY) bench/bench_models.py

bench-verify:
	$(PY) bench/bench_verify.py

bench-media:
	$(PY) bench/bench_media.py

bench-geoloc:
	$(PY) bench/bench_geoloc.py $(BENCH_ARGS)

# ONNX Runtime DISK + LightGlue against kornia on the same pairs, CPU: time per pair and match quality.
bench-matchers: models/build/disk.onnx
	$(PY) bench/bench_matchers.py $(BENCH_ARGS)

clean:
	rm -rf build dist .pytest_cache $(QM)
	find . -name __pycache__ -prune -exec rm -rf {} +
