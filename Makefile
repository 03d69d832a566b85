# The two commands the README starts with. Both set up .venv/ themselves (tools/setup_env.sh is
# idempotent: seconds when nothing changed).
PYTHON := .venv/bin/python

.PHONY: env demo test clean-env

env:
	@bash tools/setup_env.sh

demo: env
	@bash tools/demo.sh

test: env
	@$(PYTHON) -m pytest -q

clean-env:
	rm -rf .venv
