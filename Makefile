# Two commands for a newcomer: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test validate schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@for spec in specs/*/; do \
	  app=$$(basename $$spec); \
	  echo "== keel validate $$spec"; $(BIN)/keel validate $$spec || exit $$?; \
	  echo "== keel generate $$spec --out generated/$$app"; $(BIN)/keel generate $$spec --out generated/$$app || exit $$?; \
	done

validate: demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

schema: $(STAMP)
	$(BIN)/keel schema

clean:
	rm -rf $(VENV) .pytest_cache

bench: $(STAMP)
	$(BIN)/python bench/validate_bench.py
