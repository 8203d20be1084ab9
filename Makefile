# gonghui — the two commands: `make run` and `make test`. Both set up from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test lint bench env install migrate seed clean-db

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

env: .env

.env:
	$(PYTHON) scripts/init_env.py .env

migrate: install env
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --if-empty

run: seed
	@$(PY) scripts/serve.py --host $(HOST) --port $(PORT)

test: install env
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install env
	$(BIN)/ruff check gonghui tests bench scripts
	$(BIN)/ruff format --check gonghui tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(PY) manage.py makemigrations --check --dry-run

bench: install env
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b --size full || exit 1; done
