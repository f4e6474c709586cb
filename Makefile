# smallretail-llm. `make demo` runs the main job, `make test` the tests; both build the venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := ml,serve,eval,postgres,dev

.PHONY: install demo test test-slow lint bench samples clean

# torch==2.13.0 resolves to the CPU wheel on local disk; constraints.txt pins every other package.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/smallretail demo

test: install
	$(BIN)/python -m pytest

test-slow: install
	$(BIN)/python -m pytest -m slow

lint: install
	$(BIN)/ruff check src tests

samples: install
	$(BIN)/python -m smallretail_llm.samples.build

clean:
	rm -rf $(VENV) .pytest_cache
