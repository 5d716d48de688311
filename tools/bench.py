"""`make bench`: sync the medium demo org end to end and report wall time, rows per second, peak memory
and API calls. Figures go in the README by hand; tests never assert timings."""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time

from tools import devenv

log = logging.getLogger("bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    from local_salesforce.testing import start_local_org

    airflow_home = devenv.RUN_DIR / "bench-airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    conf = {"sync_connected_apps": True, "sync_territories": True, "sync_non_standard_users": True}

    log.info("Starting the %s demo org (seed %s)", args.size, args.seed)
    with (
        start_local_org(demo=args.size, seed=args.seed) as org,
        devenv.warehouse(devenv.RUN_DIR / "bench-pg", fresh=True) as conn_json,
    ):
        env = devenv.airflow_env(
            airflow_home,
            {
                "AIRFLOW_CONN_SALESFORCE_DEFAULT": devenv.salesforce_connection(
                    org.url, org.ca_bundle, org.credentials
                ),
                "AIRFLOW_CONN_SALESFORCE_WAREHOUSE": conn_json,
            },
        )
        devenv.airflow(["db", "migrate"], env, capture=True)
        calls_before = org.control.api_calls()["api_usage"]

        started = time.monotonic()
        result = devenv.airflow(
            ["dags", "test", "salesforce_entitlements_sync", "-c", json.dumps(conf)],
            env,
            check=False,
            capture=True,
        )
        wall = time.monotonic() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

        (devenv.RUN_DIR / "bench-dag-test.log").write_text(result.stdout + result.stderr)
        os.environ["AIRFLOW_CONN_SALESFORCE_WAREHOUSE"] = conn_json
        report = measure(org.control.api_calls()["api_usage"] - calls_before, wall, peak_kib)
    print(json.dumps(report, indent=2))
    return 0 if result.returncode == 0 and report["status"] == "succeeded" else 1


def measure(api_calls: int, wall: float, peak_kib: int) -> dict:
    sys.path.insert(0, str(devenv.REPO / "plugins"))
    from salesforce_access import warehouse

    with warehouse.connect("salesforce_warehouse") as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT status, api_calls, row_counts FROM salesforce_access.sync_runs "
            "ORDER BY started_at DESC LIMIT 1"
        )
        status, sync_api_calls, row_counts = cursor.fetchone()
    extracted = sum(count for key, count in row_counts.items() if key.startswith("extracted."))
    published = sum(
        count
        for key, count in row_counts.items()
        if key.startswith(("resources.", "grants.")) or key == "entitlements"
    )
    return {
        "status": status,
        "wall_seconds": round(wall, 1),
        "records_extracted": extracted,
        "rows_published": published,
        "extracted_records_per_second": round(extracted / wall),
        "published_rows_per_second": round(published / wall),
        "peak_rss_mib_largest_process": round(peak_kib / 1024),
        "api_calls_recorded_by_sync": sync_api_calls,
        "api_calls_seen_by_org": api_calls,
        "row_counts": row_counts,
    }


if __name__ == "__main__":
    sys.exit(main())
