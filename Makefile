# Two commands do all the set-up on a fresh Debian machine:
#   make run    install what is missing, start the kiosk in demo mode
#   make test   install what is missing (plus test tools), lint, run the whole suite under Xvfb
# Both are idempotent: stamps under .venv/ skip work that is already done.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
XVFB := xvfb-run -a -s "-screen 0 1920x1920x24"
# pytest-xdist workers for `make test` (0 = none): a module's tests stay in one worker
# (tests/conftest.py), so its GUI scenarios share their app children.
PYTEST_WORKERS ?= 2

# Runtime: GL for Kivy's SDL2 window, mtdev for touch panels, a CJK font, pcscd + headers and swig
# for pyscard, the vsmartcard virtual reader for demo mode's virtual social security card.
APT_RUN := libgl1 libgl1-mesa-dri libmtdev1 libsdl2-2.0-0 fonts-wqy-microhei fonts-hanazono \
	pcscd libpcsclite1 libpcsclite-dev swig vsmartcard-vpcd python3-venv
# Tests: a virtual X server, xauth for xvfb-run, PostgreSQL for the server tests, espeak-ng for
# the test that the committed voice is what scripts/build_voice.py makes, Chromium and its
# WebDriver for the console's browser tests (tests/browser/).
APT_TEST := xvfb xauth postgresql libzbar0 espeak-ng chromium chromium-driver
# Building the voice (a developer's step; the WAVs are committed, the kiosk needs no espeak-ng).
APT_VOICE := espeak-ng

.PHONY: run test lint format deps deps-test clean tour bench soak voices console-shots

run: deps
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "No display found: start it under a virtual one with 'xvfb-run -a make run' (or set DISPLAY)."; \
		exit 1; fi
	$(BIN)/kiosk run

test: deps-test lint
	@bash scripts/test-services.sh
	set -a; [ -f .test-env ] && . ./.test-env; set +a; \
	$(XVFB) $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: deps-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m kiosk_backend.export_openapi --check

format: deps-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

tour: deps-test
	$(XVFB) $(BIN)/kiosk tour --out docs/screens

# Every console page in Chromium at 1366×768, written to docs/console/ (the browser tests' shots).
console-shots: deps-test
	CONSOLE_SHOTS_DIR=docs/console $(BIN)/python -m pytest -q tests/browser -p no:cacheprovider

voices: deps
	@bash scripts/apt-ensure.sh $(APT_VOICE)
	$(BIN)/python scripts/build_voice.py

bench: deps-test
	@bash scripts/test-services.sh
	for b in benchmarks/*.py; do echo "== $$b"; $(XVFB) $(BIN)/python $$b || exit 1; done

# 10,000 resident sessions with faults injected (about an hour); the short run is in `make test`.
soak: deps-test
	@bash scripts/test-services.sh
	$(BIN)/python benchmarks/soak.py --sessions 10000 --seed 1

deps: $(VENV)/.apt-run $(VENV)/.installed

deps-test: deps $(VENV)/.apt-test

$(VENV)/.apt-run: Makefile
	@bash scripts/apt-ensure.sh $(APT_RUN)
	@mkdir -p $(VENV) && touch $@

# Tests: a virtual X server, xauth for xvfb-run, PostgreSQL for the server tests, espeak-ng for
# the test that the committed voice is what scripts/build_voice.py makes, Chromium and its
# WebDriver for the console's browser tests (tests/browser/).
APT_TEST := xvfb xauth postgresql libzbar0 espeak-ng chromium chromium-driver
# Building the voice (a developer's step; the WAVs are committed, the kiosk needs no espeak-ng).
APT_VOICE := espeak-ng

.PHONY: run test lint format deps deps-test clean tour bench voices console-shots
$(VENV)/.apt-test: Makefile
	@bash scripts/apt-ensure.sh $(APT_TEST)
	@mkdir -p $(VENV) && touch $@

$(VENV)/.installed: pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .test-env
