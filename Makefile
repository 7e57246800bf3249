# Two commands for a new user: `make demo` and `make test`. Both build their own virtualenv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8765
# make sandbox RATE_LIMIT=50: ConnectWise answers 429 with Retry-After beyond 50 requests per second.
RATE_LIMIT ?=
LINK := .collections/ansible_collections/mbs/connectwise

.PHONY: help venv collection-link demo sandbox test unit integration sanity lint molecule bench build clean \
	matrix matrix-next changelog publish-check ee-context

help:
	@echo "make demo          run setup and billing against the bundled ConnectWise sandbox"
	@echo "make test          every test: unit, integration (the AWX jobs too), molecule, ansible-lint, sanity, matrix"
	@echo "make matrix        unit tests and sanity on ansible-core 2.21 with Python 3.12 (skipped without a 3.12)"
	@echo "make sandbox       serve the sandbox in the foreground (PORT=$(PORT), RATE_LIMIT=requests per second)"
	@echo "make bench         benchmarks: setup of 500 companies; billing of 1,000 (20 ms latency) vs the naive way"
	@echo "make build         build the collection artifact"
	@echo "make changelog     regenerate changelogs/changelog.yaml and CHANGELOG.rst from changelogs/fragments"
	@echo "make publish-check galaxy-importer, antsibull-docs lint, changelog lint, ansible-builder create"

$(STAMP): requirements.txt requirements-unit.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $(STAMP)

venv: $(STAMP) collection-link

collection-link:
	@mkdir -p $(dir $(LINK))
	@[ -L $(LINK) ] || ln -s ../../.. $(LINK)

demo: venv
	PATH=$(CURDIR)/$(BIN):$$PATH TODAY=$(TODAY) scripts/demo.sh

sandbox: venv
	$(BIN)/python -m tests.sandbox --port $(PORT) $(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT))

unit: venv
	$(BIN)/pytest tests/unit -q

integration: venv
	$(BIN)/pytest tests/integration -q

molecule: venv
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/molecule.sh

# awx.awx for the lint only (not a runtime dependency): extracted from the community `ansible`
# wheel on PyPI (about 55 MB download, seconds to extract), never installed into the venv.
LINT_ANSIBLE ?= ansible==12.3.0
LINT_COLLECTIONS := .cache/lint-collections
LINT_AWX := $(LINT_COLLECTIONS)/ansible_collections/awx/awx/MANIFEST.json
LINT_ENV := CW_SITE=lint CW_COMPANY_ID=lint CW_PUBLIC_KEY=lint CW_PRIVATE_KEY=lint CW_CLIENT_ID=lint

$(LINT_AWX): | venv
	rm -rf .cache/lint-download $(LINT_COLLECTIONS)
	$(BIN)/pip download --quiet --no-deps --dest .cache/lint-download '$(LINT_ANSIBLE)'
	$(BIN)/python -c 'import glob, zipfile; z = zipfile.ZipFile(glob.glob(".cache/lint-download/ansible-*.whl")[0]); z.extractall("$(LINT_COLLECTIONS)", [n for n in z.namelist() if n.startswith("ansible_collections/awx/awx/")])'
	rm -rf .cache/lint-download

lint: venv $(LINT_AWX)
	PATH=$(CURDIR)/$(BIN):$$PATH $(LINT_ENV) ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(LINT_COLLECTIONS):$(CURDIR)/.collections \
	  $(BIN)/ansible-lint -c tests/ansible-lint-strict.yml --project-dir $(CURDIR) --offline roles playbooks awx tests/molecule

sanity: venv
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/sanity.sh

test: venv
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory molecule
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory sanity
	$(MAKE) --no-print-directory matrix

# ---- The other end of the supported ansible-core range -------------------------------------------
# .venv is ansible-core 2.19 on Python 3.11 (the oldest supported); this leg runs the unit tests and
# ansible-test sanity on ansible-core 2.21, which needs Python 3.12, in its own virtualenv under .cache/
# (never the shared .venv). A machine without a Python 3.12 skips it, saying so.
PYTHON_NEXT ?= $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && echo "$$p" && break; done)
CORE_NEXT := ansible-core>=2.21,<2.22
VENV_NEXT := .cache/venv-2.21
STAMP_NEXT := $(VENV_NEXT)/.installed

$(STAMP_NEXT): requirements.txt requirements-unit.txt
	$(PYTHON_NEXT) -m venv $(VENV_NEXT)
	$(VENV_NEXT)/bin/pip install --quiet --upgrade pip
	$(VENV_NEXT)/bin/pip install --quiet '$(CORE_NEXT)' -r requirements.txt -r requirements-unit.txt
	touch $@

matrix:
	@if [ -z "$(PYTHON_NEXT)" ]; then \
	  echo "make matrix: SKIPPED ansible-core 2.21: no Python 3.12 on this machine (PYTHON_NEXT=/path/to/python3.12)"; \
	else $(MAKE) --no-print-directory matrix-next; fi

matrix-next: $(STAMP_NEXT) collection-link
	@echo "==> ansible-core $$($(VENV_NEXT)/bin/python -c 'import ansible; print(ansible.__version__)') on $$($(VENV_NEXT)/bin/python -V)"
	$(VENV_NEXT)/bin/pytest tests/unit -q -p no:cacheprovider
	PATH=$(CURDIR)/$(VENV_NEXT)/bin:$$PATH scripts/sanity.sh

# ---- Publishing: tools in their own virtualenv under .cache/, never in .venv ---------------------------
PUBLISH_VENV := .cache/publish-venv
PUBLISH_STAMP := $(PUBLISH_VENV)/.installed
PUBLISH_TOOLS := antsibull-changelog==0.36.0 antsibull-docs==2.28.0 galaxy-importer==0.4.44 ansible-builder==3.2.0
PUBLISH_ENV := PATH=$(CURDIR)/$(PUBLISH_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.collections
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)

$(PUBLISH_STAMP):
	$(PYTHON) -m venv $(PUBLISH_VENV)
	$(PUBLISH_VENV)/bin/pip install --quiet --upgrade pip
	$(PUBLISH_VENV)/bin/pip install --quiet $(PUBLISH_TOOLS)
	touch $@

# The release of galaxy.yml's version, rebuilt from every fragment (run it again after adding fragments).
changelog: $(PUBLISH_STAMP) collection-link
	$(PUBLISH_ENV) scripts/changelog.sh $(VERSION)

publish-check: $(PUBLISH_STAMP) collection-link
	$(PUBLISH_ENV) antsibull-changelog lint
	$(PUBLISH_ENV) antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs=all \
	  .collections/ansible_collections/mbs/connectwise
	$(PUBLISH_ENV) scripts/galaxy_importer.sh
	$(MAKE) --no-print-directory ee-context

# The execution environment's build context (ansible-builder create; building it needs podman/docker).
ee-context: $(PUBLISH_STAMP)
	rm -rf .cache/ee && mkdir -p .cache/ee
	$(PUBLISH_VENV)/bin/ansible-galaxy collection build --force --output-path .cache/ee .
	cp awx/execution-environment.yml .cache/ee/
	cd .cache/ee && $(CURDIR)/$(PUBLISH_VENV)/bin/ansible-builder create -f execution-environment.yml --context context
	@echo "==> .cache/ee/context: build it with ansible-builder build -f awx/execution-environment.yml (see awx/README.md)"

# One invocation: setup (500 companies) then billing (1,000), both reports printed together at the end.
bench: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m tests.bench

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path build .

clean:
	rm -rf $(VENV) .collections build .pytest_cache tests/output
