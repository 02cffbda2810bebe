# Two entry points: `make build` (compile definitions/ into output/) and `make test` (the whole suite).
# Both install what they need: a local virtualenv (.venv) and the pinned Node packages (npm ci).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: build test check setup bench clean

$(BIN)/cpg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Bytecode for our own package, written even where PYTHONDONTWRITEBYTECODE is set (imports still
# read it): every `cpg` start then skips compiling the generator's modules (pip did this for the
# dependencies). Rewritten whenever a module changes.
.venv/.bytecode: $(BIN)/cpg $(shell find generator -name '*.py' 2>/dev/null)
	$(BIN)/python -m compileall -q generator
	touch $@

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/cpg .venv/.bytecode node_modules/.package-lock.json

build: setup
	$(BIN)/cpg build

check: setup
	$(BIN)/cpg build --check

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/run.py $(ARGS)

clean:
	rm -rf $(VENV) node_modules
