# The two commands: `make run` (the bundle locally) and `make test` (everything CI checks).
# Each sets itself up on a fresh machine: .venv for the project, .tools/sam for the SAM CLI.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Lambda runs python3.13; the suite runs on it too.
VENV313 := .venv313
PYTHON313 ?= python3.13
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
# The browser the dashboard test drives (Playwright, pointed at it): Debian's, not one Playwright downloads.
CHROMIUM := /usr/bin/chromium
# sam build and the 3.13 suite need a python3.13 on PATH; pyenv provides one here.
PY313_ENV ?= PYENV_VERSION=3.13.0

export SAM_CLI_TELEMETRY := 0
# Every layer's folder (the core's, then each provider's): `seawall` is split over them (layers/README.md).
LAYERS := $(subst $(eval) ,:,$(patsubst %/seawall,%,$(wildcard layers/shared/seawall) $(filter-out layers/shared/seawall,$(wildcard layers/*/seawall))))
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: lock run invoke call ops env-json sign-event provider provider-action provider-update provider-remove digests test suites lint typecheck unit unit-py313 e2e template build deploy deploy-guided bench mutation openapi clean

# Every environment installs from a lock: each requirements file's packages and everything under them, pinned,
# with their hashes (`make lock` compiles them; tests/unit/test_locks.py fails when a file and its lock disagree).
$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

$(VENV313)/.installed: requirements-dev.lock
	$(PY313_ENV) $(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install --quiet --upgrade pip
	$(VENV313)/bin/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# CI runs as root on Debian; elsewhere, install chromium yourself (make run needs none).
$(CHROMIUM):
	apt-get update && apt-get install -y chromium

# What a function's container has in Lambda: the layers' packages (and the runtime's SnapStart hooks), nothing of
# the tools; the cold-start benchmark runs its containers on it.
LAMBDA_VENV := .venv-lambda
$(LAMBDA_VENV)/.installed: $(wildcard layers/*/requirements.lock)
	$(PY313_ENV) $(PYTHON313) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/python -m pip install --quiet --upgrade pip
	# Every layer's packages (a function's container puts only its own layers' code on the path).
	for lock in $(wildcard layers/*/requirements.lock); do \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r $$lock || exit 1; \
	done
	# The runtime's SnapStart hooks, which Lambda provides (no dependencies; the benchmarks' containers only).
	$(LAMBDA_VENV)/bin/python -m pip install --quiet --no-deps snapshot-restore-py==1.0.0
	touch $@

$(SAM_VENV)/.installed: requirements-sam.lock
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet --require-hashes -r requirements-sam.lock
	touch $@

# Pin again what the requirements files ask for (their versions, and all under them at today's releases): the
# layers' for Lambda (python3.13, arm64; a provider's layer holds only what the core layer does not), the tools'
# for any platform, holding the layers' versions.
UV := $(VENV)/bin/uv pip compile --quiet --generate-hashes
LAMBDA_PLATFORM := --python-version 3.13 --python-platform aarch64-manylinux2014
PROVIDER_LOCKS = $(patsubst %.txt,%.lock,$(filter-out layers/shared/%,$(wildcard layers/*/requirements.txt)))
lock: $(VENV)/.installed
	$(UV) $(LAMBDA_PLATFORM) layers/shared/requirements.txt -o layers/shared/requirements.lock
	core=$$(sed -n 's/^\([A-Za-z0-9._-]*\)==.*/--no-emit-package \1/p' layers/shared/requirements.lock); \
	for requirements in $(PROVIDER_LOCKS:.lock=.txt); do \
		$(UV) $(LAMBDA_PLATFORM) --constraint layers/shared/requirements.lock $$core \
			"$$requirements" -o "$${requirements%.txt}.lock" || exit 1; \
	done
	$(UV) --universal --constraint layers/shared/requirements.lock $(addprefix --constraint ,$(PROVIDER_LOCKS)) \
		requirements-dev.txt -o requirements-dev.lock
	$(UV) --universal requirements-sam.txt -o requirements-sam.lock

run: $(VENV)/.installed
	$(PY) -m local

invoke: $(VENV)/.installed
	$(PY) -m local.invoke $(FUNCTION) -e $(EVENT) $(if $(TIMEOUT),--timeout $(TIMEOUT))

# The on-call command against `make run`, or a deployed stack with --stack (docs/runbooks/):
#   make ops ARGS="queues"   make ops ARGS="--stack integrations-prod breakers"
ops: $(VENV)/.installed
	$(PY) -m ops $(ARGS)

# A signed call to the running stack, as the local caller:
#   make call METHOD=POST ROUTE=/customers BODY='{"email": "ada@example.com"}'
METHOD ?= GET
call: $(VENV)/.installed
	$(PY) -m local.call $(METHOD) $(ROUTE) '$(BODY)'

# For sam local invoke (Docker) against the running stack: the --env-vars file, and re-signed webhook events.
env-json: $(VENV)/.installed
	$(PY) -m local.samlocal env-json $(if $(HOST),--host $(HOST))

sign-event: $(VENV)/.installed
	$(PY) -m local.samlocal sign-event $(EVENT)

# A new provider, generated and wired in (docs/architecture.md, "Adding a provider"):
#   make provider NAME=acme AUTH=bearer|basic|api-key|signed WEBHOOKS=none|standard|hmac \
#        ACTIONS="GET /widgets/{widget_id}, POST /widgets"
provider: $(VENV)/.installed
	$(PY) -m scaffold add "$(NAME)" --auth "$(or $(AUTH),bearer)" --webhooks "$(or $(WEBHOOKS),none)" --actions "$(ACTIONS)"

# After changing layers/shared or a route: record the digests the templates carry (make lint checks them).
digests: $(VENV)/.installed
	$(PY) -m local.digests

# One more action for a generated provider: its files brought up to date, edits kept (docs/architecture.md):
#   make provider-action NAME=acme ACTION="DELETE /widgets/{widget_id}"
provider-action: $(VENV)/.installed
	$(PY) -m scaffold action "$(NAME)" --action "$(ACTION)"

# A generated provider brought up to date with scaffold/templates as changed since (its edits kept, as copier's update).
provider-update: $(VENV)/.installed
	$(PY) -m scaffold update "$(NAME)"

# The way back: every generated file and template.yaml entry (FORCE=1 also removes files edited since).
provider-remove: $(VENV)/.installed
	$(PY) -m scaffold remove "$(NAME)" $(if $(FORCE),--force)

# The build before the suites: the layer-size benchmark's smoke run reads the built layer.
test: lint typecheck template build suites

# The suites at once (python3.11, python3.13, and the end-to-end tests on python3.13): each waits mostly on its
# servers and sandboxes, and each test has its own ports and state.
suites:
	$(MAKE) --no-print-directory -j3 --output-sync=target unit unit-py313 e2e

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	# The templates carry the layer's digest and the routes' (local/digests.py): so that a change reaches callers.
	$(PY) -m local.digests --check
	$(VENV)/bin/ruff format --check .
	# The module diagram of docs/architecture.md (contracts in pyproject.toml).
	PYTHONPATH=$(LAYERS):. $(VENV)/bin/lint-imports --no-cache

# mypy does not follow a namespace package into other folders: each provider's package is named.
PROVIDER_PACKAGES := $(addprefix seawall.providers.,$(notdir $(wildcard layers/*/seawall/providers/*)))
typecheck: $(VENV)/.installed
	MYPYPATH=$(LAYERS) $(VENV)/bin/mypy $(addprefix -p ,seawall local bench scaffold ops $(PROVIDER_PACKAGES))
	# Each function is its own `app` module: checked one at a time, strict like the layer.
	for handler in functions/*/app.py functions/*/*/app.py; do MYPYPATH=$(LAYERS) $(VENV)/bin/mypy --strict $$handler || exit 1; done
	# The cold-start benchmark's twins: one Lambda code folder, its modules top-level.
	MYPYPATH=bench/twins $(VENV)/bin/mypy --strict --explicit-package-bases bench/twins/*.py

# Everything on python3.13, Lambda's runtime; on python3.11, the local tools' Python, what does not run
# in a Lambda container (the layer's units, its clients and the Stripe client against real servers,
# the local stack) — the functions, state contention and end-to-end suites are the slow ones.
# tests/scaffold runs sam validate and cfn-lint on a generated provider: it needs the SAM CLI's virtualenv.
# tests/bench runs every benchmark once in its smoke mode, each on the interpreter `make bench` gives it
# (the cold start's containers on .venv-lambda, the layer's imports on .venv313): tooling, run once.
unit: $(VENV)/.installed $(VENV313)/.installed $(LAMBDA_VENV)/.installed $(SAM_VENV)/.installed $(CHROMIUM)
	$(VENV)/bin/pytest tests/unit tests/integration tests/providers tests/local tests/scaffold tests/ops tests/bench

unit-py313: $(VENV313)/.installed $(CHROMIUM)
	$(VENV313)/bin/pytest -q -p no:cacheprovider -m "not e2e" --ignore=tests/scaffold --ignore=tests/ops \
		--ignore=tests/bench

e2e: $(VENV313)/.installed
	$(VENV313)/bin/pytest -q -p no:cacheprovider -m e2e

# The root template and its nested applications' (each provider's, the operations').
TEMPLATES := template.yaml $(wildcard functions/*/template.yaml) ops/template.yaml
template: $(SAM_VENV)/.installed
	for template in $(TEMPLATES); do $(SAM) validate --lint -t $$template || exit 1; done
	$(SAM_VENV)/bin/cfn-lint $(TEMPLATES)

build: $(SAM_VENV)/.installed $(VENV)/.installed
	$(PY313_ENV) $(SAM) build
	# The layers ship compiled (layers/layer.mk): a module without bytecode is compiled on every cold start.
	$(PY) bench/layer_size.py --check

# Cold start on Lambda's runtime (python3.13) against a `make run` of its own, containers on the layer's packages only.
# Deploy an environment of samconfig.toml (default: a developer's own stack; dev; prod): build with Lambda's
# Python (python3.13, as `make build`), then `sam deploy` with that environment's settings.
ENV ?= default
deploy: $(SAM_VENV)/.installed
	$(PY313_ENV) $(SAM) build
	$(SAM) deploy --config-env $(ENV)

# A new environment: SAM asks for each setting and writes the answers under ENV in samconfig.toml, never over
# `default`, which the repository keeps.
deploy-guided: $(SAM_VENV)/.installed
	@if [ "$(ENV)" = default ]; then echo "name the new environment: make deploy-guided ENV=staging" >&2; exit 2; fi
	$(PY313_ENV) $(SAM) build
	$(SAM) deploy --guided --config-env $(ENV)

bench: $(VENV)/.installed $(VENV313)/.installed $(LAMBDA_VENV)/.installed
	$(VENV313)/bin/python bench/coldstart.py --python $(LAMBDA_VENV)/bin/python
	$(PY) bench/state.py

# Mutation testing of the layer's guarantee modules (bench/mutation.py, docs/benchmarks.md): each package against
# its own tests, two mutants at a time. It takes hours, so it is no part of `make test`. One package, from where its
# last run left off: `make mutation PACKAGES=sync`; from scratch: `make mutation PACKAGES=sync ARGS=--fresh`.
mutation: $(VENV)/.installed
	$(PY) bench/mutation.py $(PACKAGES) $(ARGS)

openapi: $(VENV)/.installed
	$(PY) -m local.openapi > docs/openapi.json

clean:
	rm -rf $(VENV) $(VENV313) $(LAMBDA_VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
