# The two commands the README starts with. Both set up .venv/ themselves (tools/setup_env.sh is
# idempotent: seconds when nothing changed).
PYTHON := .venv/bin/python

.PHONY: env demo test test-fast clean-env

env:
	@bash tools/setup_env.sh

demo: env
	@bash tools/demo.sh

# pytest-xdist: one worker per core, each module on one worker (its fixtures built once), the
# threads shared among the workers (tests/conftest.py).
test: env
	@$(PYTHON) -m pytest -q -n auto --dist loadscope

# The inner loop: everything but the tests marked slow (processes, Runners).
test-fast: env
	@$(PYTHON) -m pytest -q -n auto --dist loadscope -m "not slow"

clean-env:
	rm -rf .venv
