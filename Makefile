# Two commands for a newcomer: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DB := sqlite:///$(CURDIR)/.keel/demo-tasks.db
DEMO_PASSWORD := demo-admin-password

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
	@cd generated/tasks && DATABASE_URL=$(DEMO_DB) ../../$(BIN)/python -m tasks migrate >/dev/null 2>&1
	@printf '%s\n' '$(DEMO_PASSWORD)' | (cd generated/tasks && DATABASE_URL=$(DEMO_DB) ../../$(BIN)/python -m tasks \
	  create-admin --email admin@example.test --name 'Demo Admin' >/dev/null 2>&1) \
	  && echo "== Created the demo admin admin@example.test (password: $(DEMO_PASSWORD))" \
	  || echo "== The demo admin admin@example.test already exists (password: $(DEMO_PASSWORD))"
	@echo "== Try it (in another terminal):"
	@echo "   curl -s -X POST http://127.0.0.1:8000/api/auth/signup -H 'content-type: application/json' \\"
	@echo "        -d '{\"email\": \"ada@example.test\", \"name\": \"Ada\", \"password\": \"correct horse battery\"}'"
	@echo "   curl -s -X POST http://127.0.0.1:8000/api/auth/login -H 'content-type: application/json' \\"
	@echo "        -d '{\"email\": \"admin@example.test\", \"password\": \"$(DEMO_PASSWORD)\"}'"
	@echo "   curl -s http://127.0.0.1:8000/api/projects -H \"authorization: Bearer <access_token from above>\""
	@echo "== Serving the task manager on http://127.0.0.1:8000: interactive docs at http://127.0.0.1:8000/docs, endpoints in generated/tasks/README.md. Ctrl+C stops it."
	DATABASE_URL=$(DEMO_DB) $(BIN)/keel serve specs/tasks --out generated/tasks

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
