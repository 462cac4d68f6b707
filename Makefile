# The README's commands. `make demo` and `make test` set everything up in .venv/ first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint services browser screenshots dashboard clean

setup: $(VENV)/.installed

# Reinstall when the dependency list changes. torch is pinned to the CPU build in pyproject.toml.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/brandpulse demo

dashboard: setup
	$(BIN)/brandpulse dashboard --database sqlite:///data/demo.db

services:
	bash scripts/services.sh

# Debian's Chromium for the browser test and the screenshots (apt-get when missing; never a download).
browser:
	bash scripts/browser.sh

test: setup services browser
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# docs/*.png from the demo data: needs `make demo` first.
screenshots: setup browser
	$(BIN)/python scripts/screenshot.py --database sqlite:///data/demo.db --out docs

clean:
	rm -rf $(VENV) data .pytest_cache
