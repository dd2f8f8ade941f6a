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
	@mkdir -p .keel
	@echo "== Serving the task manager on http://127.0.0.1:8000: interactive docs at http://127.0.0.1:8000/docs, endpoints in generated/tasks/README.md. Ctrl+C stops it."
	DATABASE_URL=sqlite:///$(CURDIR)/.keel/demo-tasks.db $(BIN)/keel serve specs/tasks --out generated/tasks

validate: demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

schema: $(STAMP)
	$(BIN)/keel schema

clean:
	rm -rf $(VENV) .pytest_cache

bench: $(STAMP)
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/generate_bench.py
	$(BIN)/python bench/api_bench.py
