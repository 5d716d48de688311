"""`make demo`: start the small demo org and a warehouse, run the sync DAG with `airflow dags test`,
print what landed, and stop everything it started."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from tools import devenv

log = logging.getLogger("demo")

DEMO_CONF = {"sync_connected_apps": True, "sync_territories": True, "sync_non_standard_users": True}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    from local_salesforce.testing import start_local_org

    airflow_home = devenv.RUN_DIR / "demo-airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    embedded = "AIRFLOW_CONN_SALESFORCE_WAREHOUSE" not in os.environ
    started = time.monotonic()

    with (
        start_local_org(demo="small", seed=0) as org,
        devenv.warehouse(devenv.RUN_DIR / "demo-pg") as conn_json,
    ):
        log.info("Demo org serving at %s", org.url)
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
        log.info("Running salesforce_entitlements_sync with conf %s", DEMO_CONF)
        result = devenv.airflow(
            ["dags", "test", "salesforce_entitlements_sync", "-c", json.dumps(DEMO_CONF)],
            env,
            check=False,
            capture=True,
        )
        (devenv.RUN_DIR / "demo-dag-test.log").write_text(result.stdout + result.stderr)
        os.environ["AIRFLOW_CONN_SALESFORCE_WAREHOUSE"] = conn_json
        ok = print_summary(org.control.api_calls()["api_usage"], time.monotonic() - started)
        if result.returncode != 0 or not ok:
            print(
                f"\nThe sync failed; the Airflow output is in {devenv.RUN_DIR / 'demo-dag-test.log'}",
                file=sys.stderr,
            )
            return 1
    print(f"\nWarehouse data: {describe_warehouse(embedded)}")
    return 0


def print_summary(api_calls: int, seconds: float) -> bool:
    sys.path.insert(0, str(devenv.REPO / "plugins"))
    from salesforce_access import warehouse

    with warehouse.connect("salesforce_warehouse") as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT sync_id, status, api_calls, error_message, row_counts FROM salesforce_access.sync_runs "
            "ORDER BY started_at DESC LIMIT 1"
        )
        sync_id, status, sync_api_calls, error, _ = cursor.fetchone()
        print(f"\nSync {sync_id}: {status}" + (f" ({error})" if error else ""))
        if status != "succeeded":
            return False
        cursor.execute(
            "SELECT o.org_id, o.name, o.instance_url FROM salesforce_access.orgs o "
            "JOIN salesforce_access.sync_runs r ON r.org_id = o.org_id WHERE r.sync_id = %s",
            (sync_id,),
        )
        org_id, org_name, instance_url = cursor.fetchone()
        print(
            f"Org {org_name} ({org_id}) at {instance_url}; {sync_api_calls} Salesforce API calls "
            f"({api_calls} seen by the org)"
        )
        cursor.execute(
            "SELECT resource_type, count(*) FROM salesforce_access.resources WHERE org_id = %s "
            "GROUP BY 1 ORDER BY 1",
            (org_id,),
        )
        print("\nResources per type:")
        for resource_type, count in cursor.fetchall():
            print(f"  {resource_type:<24}{count:>8}")
        cursor.execute(
            "SELECT count(*) FILTER (WHERE is_direct), count(*) FILTER (WHERE NOT is_direct), "
            "(SELECT count(*) FROM salesforce_access.entitlements WHERE org_id = %s) "
            "FROM salesforce_access.grants WHERE org_id = %s",
            (org_id, org_id),
        )
        direct, derived, entitlements = cursor.fetchone()
        print(f"\nEntitlements: {entitlements}; grants: {direct} direct, {derived} derived")
        print(f"Wall time: {seconds:.1f} s")
    return True


def describe_warehouse(embedded: bool) -> str:
    if embedded:
        return (
            f"schema salesforce_access of the embedded Postgres in {devenv.RUN_DIR / 'demo-pg'} "
            "(stopped now; `make psql` starts it again and opens psql on it)"
        )
    return "schema salesforce_access of the warehouse AIRFLOW_CONN_SALESFORCE_WAREHOUSE names"


if __name__ == "__main__":
    sys.exit(main())
