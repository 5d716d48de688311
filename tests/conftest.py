"""Shared test setup: a throwaway Airflow home, a real Postgres warehouse and local Salesforce orgs.

Airflow reads its configuration when first imported, so the environment is set here, at import time,
before any test module imports it.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="sfa-airflow-"))
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "XDG_RUNTIME_DIR": str(_AIRFLOW_HOME),  # private (0700): pgserver asks for one at import
    }
)
# Airflow's dag.test() binds log handlers to the streams pytest captures for one test; a later test then
# gets "--- Logging error ---" tracebacks on stderr from writes to the closed stream. Drop them, as a
# production process would.
logging.raiseExceptions = False

for path in (REPO / "plugins", REPO):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="session")
def warehouse_conn_json():
    """The warehouse every test writes to: AIRFLOW_CONN_SALESFORCE_WAREHOUSE's, or an embedded one."""
    from tools import devenv

    data_dir = Path(tempfile.mkdtemp(prefix="sfa-pg-", dir="/tmp"))
    with devenv.warehouse(data_dir) as conn_json:
        os.environ["AIRFLOW_CONN_SALESFORCE_WAREHOUSE"] = conn_json
        yield conn_json
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db(warehouse_conn_json):
    """Airflow's own metadata tables (SQLite in the throwaway home), created once."""
    from airflow.utils import db

    db.initdb()
    return _AIRFLOW_HOME


@pytest.fixture
def pg(warehouse_conn_json):
    """A psycopg2 connection to the warehouse, autocommit, for assertions."""
    import psycopg2

    params = json.loads(warehouse_conn_json)
    conn = psycopg2.connect(
        host=params.get("host"),
        port=params.get("port", 5432),
        user=params.get("login"),
        password=params.get("password"),
        dbname=params.get("schema") or "postgres",
    )
    conn.autocommit = True
    yield conn
    conn.close()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def all_logs():
    """Every log record of the run, formatted with its traceback, wherever Airflow routes its output."""
    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.lines
    root.removeHandler(handler)
