# The README's commands. `make demo` and `make test` set everything up in .venv/ first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint services dashboard clean

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

test: setup services
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data .pytest_cache
