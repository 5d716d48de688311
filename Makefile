# Two commands matter: `make demo` (run the sync on the demo org) and `make test` (the whole suite).
# Both create the virtual environment on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench check oauth-setup psql clean venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt -c constraints.txt
	# Put plugins/ and the repo on the venv's path, so `python -m salesforce_access.preflight` works anywhere.
	$(PY) -c 'import site, sys; open(site.getsitepackages()[0] + "/salesforce-access.pth", "w").write(sys.argv[1] + "/plugins\n" + sys.argv[1] + "\n")' "$(CURDIR)"
	touch $(STAMP)

## Sync the demo org (small) into an embedded Postgres (or AIRFLOW_CONN_SALESFORCE_WAREHOUSE) and summarize.
demo: $(STAMP)
	$(PY) -m tools.demo

## Lint, then the whole test suite against local orgs and a real Postgres.
test: $(STAMP) lint
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Sync the medium demo org and report wall time, rows/s, peak memory and API calls.
bench: $(STAMP)
	$(PY) -m tools.bench $(BENCH_ARGS)

## Sign in with the salesforce_default connection and report what sync and provisioning can do.
check: $(STAMP)
	$(PY) -m salesforce_access.preflight --conn-id $${SALESFORCE_CONN_ID:-salesforce_default}

## Walk through Salesforce's web-server OAuth flow once to get a refresh token for auth_method oauth.
oauth-setup: $(STAMP)
	$(PY) -m salesforce_access.oauth_setup $(ARGS)

clean:
	rm -rf .run

## Open psql on the demo's warehouse (search_path salesforce_access).
psql: $(STAMP)
	$(PY) -m tools.psql
