# `demo` and `test` first run the idempotent set-up (seconds once done).
VENV_PY := $(or $(SAMKR_VENV),.venv)/bin/python
LINT_PATHS := samkr_mmpose samkr_deploy tests tools setup.py configs

.PHONY: setup demo complexity test lint

setup:
	bash tools/setup.sh

demo: setup
	$(VENV_PY) tools/run_demo.py $(ARGS)

complexity: setup
	$(VENV_PY) tools/complexity.py

test: setup
	$(VENV_PY) -m pytest
	$(MAKE) --no-print-directory lint

lint:
	$(VENV_PY) -m flake8 $(LINT_PATHS)
	$(VENV_PY) -m isort --check-only --diff $(LINT_PATHS)
	$(VENV_PY) -m yapf --diff --recursive $(LINT_PATHS)
