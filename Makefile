# rlkit developer commands. `make train` and `make test` set up .venv first (once).
# torch is installed on its own first: `pip install torch==2.13.0` takes this machine's local CPU wheel
# (fast, offline) and, on other machines, PyPI's build (CUDA on Linux x86_64), so GPUs work there.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: setup train test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev,sweep,optuna]"
	touch $@

train: setup
	$(BIN)/rlkit train

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python benchmarks/tabular_sps.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
