"""`make psql`: open psql on the demo's embedded warehouse (or the configured one), starting it if needed."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from tools import devenv


def main() -> int:
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    devenv.private_runtime_dir()
    import pgserver

    psql = str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql")
    env = {**os.environ, "PGOPTIONS": "-c search_path=salesforce_access"}
    with devenv.warehouse(devenv.RUN_DIR / "demo-pg") as conn_json:
        if not conn_json.lstrip().startswith("{"):
            # Airflow's URI form is one psql understands as it is.
            return subprocess.call(
                [psql, conn_json.replace("postgresql+psycopg2://", "postgresql://")], env=env
            )
        conn = json.loads(conn_json)
        args = [
            psql,
            "-h",
            conn.get("host") or "localhost",
            "-p",
            str(conn.get("port") or 5432),
            "-U",
            conn.get("login") or "postgres",
            "-d",
            conn.get("schema") or "postgres",
        ]
        if conn.get("password"):
            env["PGPASSWORD"] = conn["password"]  # psql's own way; never on the command line
        return subprocess.call(args, env=env)


if __name__ == "__main__":
    sys.exit(main())
