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
    with devenv.warehouse(devenv.RUN_DIR / "demo-pg") as conn_json:
        import pgserver

        conn = json.loads(conn_json) if conn_json.startswith("{") else {}
        psql = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
        args = [
            str(psql),
            "-h",
            conn.get("host") or "localhost",
            "-U",
            conn.get("login") or "postgres",
            "-d",
            conn.get("schema") or "postgres",
            "-v",
            "search_path=salesforce_access",
        ]
        if not conn:
            print(
                "AIRFLOW_CONN_SALESFORCE_WAREHOUSE is a URI: run psql against it yourself.", file=sys.stderr
            )
            return 2
        return subprocess.call(args, env={**os.environ, "PGOPTIONS": "-c search_path=salesforce_access"})


if __name__ == "__main__":
    sys.exit(main())
