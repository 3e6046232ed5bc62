# The README's commands. Each sets up what it needs first, so one command works on a fresh machine.
.PHONY: demo test lint unit setup bench-setup clean

VENV := .venv/bin

demo:            ## set up and open tmail on its built-in demo mailbox
	@scripts/setup
	$(VENV)/tmail --demo

test:            ## set up and run everything CI runs: lint, types, layers, the whole test suite
	@scripts/setup --test
	$(VENV)/ruff check tmail tests bench
	$(VENV)/ruff format --check tmail tests bench
	$(VENV)/mypy
	$(VENV)/lint-imports
	$(VENV)/pytest

lint:            ## only the static checks
	@scripts/setup --test
	$(VENV)/ruff check tmail tests bench
	$(VENV)/ruff format --check tmail tests bench
	$(VENV)/mypy
	$(VENV)/lint-imports

unit:            ## only the tests that need no mail servers
	@scripts/setup --test
	$(VENV)/pytest -m "not stack"

setup:
	@scripts/setup --test

bench-setup:     ## also install the tools the benchmarks compare against (mbsync, msmtp, getmail6, ...)
	@scripts/setup --bench

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache build *.egg-info
