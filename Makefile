# Every target first runs the idempotent set-up (seconds once done).
PYTHON := .venv/bin/python
LINT_PATHS := samkr_mmpose tests tools setup.py

.PHONY: setup demo test lint

setup:
	bash tools/setup.sh

demo: setup
	$(PYTHON) tools/complexity.py

test: setup
	$(PYTHON) -m pytest
	$(MAKE) --no-print-directory lint

lint:
	$(PYTHON) -m flake8 $(LINT_PATHS)
	$(PYTHON) -m isort --check-only --diff $(LINT_PATHS)
	$(PYTHON) -m yapf --diff --recursive $(LINT_PATHS)
