# The two commands: `make run` (the bundle locally) and `make test` (everything CI checks).
# Each sets itself up on a fresh machine: .venv for the project, .tools/sam for the SAM CLI.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
# sam build needs a python3.13 on PATH for the python3.13 runtime; pyenv provides one here.
SAM_BUILD_ENV ?= PYENV_VERSION=3.13.0

export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run invoke test lint typecheck unit template build bench clean

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m local

invoke: $(VENV)/.installed
	$(PY) -m local.invoke $(FUNCTION) -e $(EVENT)

test: lint typecheck unit template build

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(VENV)/bin/pytest

template: $(SAM_VENV)/.installed
	$(SAM) validate --lint
	$(SAM_VENV)/bin/cfn-lint template.yaml

build: $(SAM_VENV)/.installed
	$(SAM_BUILD_ENV) $(SAM) build

bench: $(VENV)/.installed
	$(PY) bench/coldstart.py

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
