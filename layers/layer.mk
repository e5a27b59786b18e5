# How `sam build` builds every layer (BuildMethod: makefile): each layer's Makefile includes this one, and SAM runs
# build-<LogicalId> in a copy of the layer's folder. SAM's own Python builder ships no bytecode, so Lambda, whose
# /opt is read-only, would compile every module the layer imports again on every cold start. Here the layer's
# packages (its requirements.lock, when it has one: every package pinned, with its hashes; a provider's lock holds
# only what the core layer does not) are installed for Lambda's platform, its part of `seawall` copied, and
# everything compiled once, with unchecked-hash .pyc files (a layer version never changes, and a zip does not
# keep the timestamps .pyc files are checked against).
PYTHON ?= python3.13
TARGET = $(ARTIFACTS_DIR)/python

build-%Layer:
	mkdir -p "$(TARGET)"
	if [ -f requirements.lock ]; then \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
			--requirement requirements.lock --target "$(TARGET)" \
			--platform manylinux2014_aarch64 --implementation cp --python-version 3.13 --only-binary=:all:; \
	fi
	rm -rf "$(TARGET)/bin"
	cp -R seawall "$(TARGET)/"
	find "$(TARGET)" -name __pycache__ -prune -exec rm -rf {} +
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(TARGET)"
