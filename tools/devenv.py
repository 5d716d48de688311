"""The local environment `make demo`, `make bench` and the tests run in: a warehouse, a local org, Airflow.

A warehouse named by ``AIRFLOW_CONN_SALESFORCE_WAREHOUSE`` is used as given; otherwise an embedded
Postgres (the ``pgserver`` wheel ships real Postgres binaries) is started under ``.run/``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
RUN_DIR = REPO / ".run"


@contextmanager
def warehouse(data_dir: Path | None = None, *, fresh: bool = False):
    """Yield the JSON form of an Airflow Postgres connection for the warehouse, starting one if needed."""
    configured = os.environ.get("AIRFLOW_CONN_SALESFORCE_WAREHOUSE")
    if configured:
        log.info("Using the warehouse of AIRFLOW_CONN_SALESFORCE_WAREHOUSE")
        yield configured
        return

    private_runtime_dir()
    import pgserver

    data_dir = data_dir or RUN_DIR / "pg"
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
    try:
        # The JSON form puts the socket directory in `host`, which both psycopg2 and SQLAlchemy honour.
        yield json.dumps(
            {
                "conn_type": "postgres",
                "host": str(data_dir),
                "login": "postgres",
                "schema": "postgres",
                "port": 5432,
            }
        )
    finally:
        server.cleanup()


def private_runtime_dir() -> None:
    """pgserver asks platformdirs for a runtime dir at import; give it a private one rather than a warning."""
    runtime_dir = RUN_DIR / "xdg"
    runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    # Its cleanup logs at exit, after pytest or the demo closed their streams; only warnings matter.
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def airflow_env(airflow_home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for an Airflow process seeing only this project's DAGs, with state in airflow_home."""
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join(
                [str(REPO / "plugins"), str(REPO), env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep),
            "XDG_RUNTIME_DIR": env.get("XDG_RUNTIME_DIR", str(RUN_DIR / "xdg")),
        }
    )
    env.update(extra or {})
    return env


def salesforce_connection(
    org_url: str, ca_bundle: str, credentials: dict, auth_method: str = "jwt_bearer"
) -> str:
    """The JSON form of a `salesforce_default` connection signing in to a local org."""
    extra: dict[str, str] = {
        "auth_method": auth_method,
        "domain": org_url,
        "ca_bundle": ca_bundle,
        "version": "62.0",
    }
    conn: dict = {"conn_type": "salesforce", "login": credentials["username"], "extra": extra}
    if auth_method == "jwt_bearer":
        key_path = Path(ca_bundle).parent / "demo-jwt-key.pem"
        key_path.write_text(credentials["private_key_pem"])
        key_path.chmod(0o600)
        extra.update({"consumer_key": credentials["consumer_key"], "private_key_file_path": str(key_path)})
    elif auth_method == "client_credentials":
        extra.update(
            {"consumer_key": credentials["consumer_key"], "consumer_secret": credentials["consumer_secret"]}
        )
    elif auth_method == "password":
        conn["password"] = credentials["password"]
        extra["security_token"] = credentials["security_token"]
    elif auth_method == "oauth":
        extra.update(
            {
                "consumer_key": credentials["consumer_key"],
                "consumer_secret": credentials["consumer_secret"],
                "refresh_token": credentials["refresh_token"],
            }
        )
    return json.dumps(conn)


def airflow(args: list[str], env: dict[str, str], *, check: bool = True, capture: bool = False):
    """Run the venv's `airflow` CLI."""
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    return subprocess.run(command, env=env, check=check, text=True, capture_output=capture)
