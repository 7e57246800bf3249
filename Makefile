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

.PHONY: help venv collection-link demo sandbox test unit integration sanity lint molecule bench build clean

help:
	@echo "make demo      run setup and billing against the bundled ConnectWise sandbox"
	@echo "make test      every test: unit, integration, molecule, ansible-lint, ansible-test sanity"
	@echo "make sandbox   serve the sandbox in the foreground (PORT=$(PORT), RATE_LIMIT=requests per second)"
	@echo "make bench     benchmarks: setup of 500 companies; billing of 1,000 (20 ms latency) vs the naive way"
	@echo "make build     build the collection artifact"

$(STAMP): requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $(STAMP)

venv: $(STAMP) collection-link

collection-link:
	@mkdir -p $(dir $(LINK))
	@[ -L $(LINK) ] || ln -s ../../.. $(LINK)

demo: venv
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/demo.sh

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
	  $(BIN)/ansible-lint --offline roles playbooks awx tests/molecule

sanity: venv
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/sanity.sh

test: venv
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory molecule
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory sanity

# One invocation: setup (500 companies) then billing (1,000), both reports printed together at the end.
bench: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m tests.bench

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path build .

clean:
	rm -rf $(VENV) .collections build .pytest_cache tests/output
