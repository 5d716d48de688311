"""Fixtures for the provisioning DAG: Tiny Co served by a local org, and a warehouse a real sync filled.

The sync runs once per session (territories on, a license-to-profile map set); each test gets Tiny Co
reloaded into the local org and the synced warehouse restored from a snapshot, so every test starts
from the same Salesforce and warehouse state without paying for a sync.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.tiny_org import NAME
from tests.sync.conftest import (  # noqa: F401 - fixtures shared with the sync tests
    SCHEMA,
    parse_dag,
    task_states,
    tiny_credentials,
    tiny_fixture,
    tiny_server,
)
from tools import devenv

SNAPSHOT = "provisioning_test_snapshot"
PUBLISHED_TABLES = (
    "orgs", "sync_runs", "resource_types", "resources", "entitlements", "grants", "entitlement_edges",
    "grant_history",
)  # fmt: skip
ORGS_CONFIG = """\
orgs:
  - name: default
    salesforce_conn_id: salesforce_default
    options:
      sync_territories: true
      license_profile_map:
        Salesforce: Minimum Access - Salesforce
"""


@pytest.fixture(scope="session")
def orgs_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("provisioning-config") / "orgs.yaml"
    path.write_text(ORGS_CONFIG)
    return path


def _environment(server, credentials: dict, orgs_config: Path) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": devenv.salesforce_connection(
            server.url, server.ca_bundle, credentials, "client_credentials"
        ),
        "SALESFORCE_ORGS_CONFIG": str(orgs_config),
    }


@pytest.fixture(scope="session")
def synced_snapshot(tiny_server, tiny_fixture, tiny_credentials, warehouse_conn_json, airflow_db, orgs_config):
    """Run the sync DAG once on Tiny Co and keep a copy of the published tables."""
    import psycopg2

    with pytest.MonkeyPatch.context() as patch:
        for key, value in _environment(tiny_server, tiny_credentials, orgs_config).items():
            patch.setenv(key, value)
        tiny_server.control.load_fixture(tiny_fixture)
        tiny_server.control.clear_faults()
        conn = _connect(warehouse_conn_json, psycopg2)
        with conn.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE")
        dag_run = parse_dag("salesforce_entitlements_sync").test(run_conf={})
        assert str(dag_run.state) == "success", task_states(dag_run)
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {SNAPSHOT}")
            for table in PUBLISHED_TABLES:
                cursor.execute(f"CREATE TABLE {SNAPSHOT}.{table} AS TABLE {SCHEMA}.{table}")
        conn.close()
    return SNAPSHOT


def _connect(conn_json: str, psycopg2):
    import json

    params = json.loads(conn_json)
    conn = psycopg2.connect(
        host=params.get("host"), port=params.get("port", 5432), user=params.get("login"),
        password=params.get("password"), dbname=params.get("schema") or "postgres",
    )  # fmt: skip
    conn.autocommit = True
    return conn


@pytest.fixture
def org(synced_snapshot, tiny_server, tiny_fixture, tiny_credentials, orgs_config, pg, monkeypatch):
    """Tiny Co freshly loaded and the warehouse as the session's sync left it; returns the local org."""
    for key, value in _environment(tiny_server, tiny_credentials, orgs_config).items():
        monkeypatch.setenv(key, value)
    tiny_server.control.load_fixture(tiny_fixture)
    tiny_server.control.clear_faults()
    restore_warehouse(pg)
    return tiny_server


def restore_warehouse(pg) -> None:
    from salesforce_access import warehouse

    warehouse.ensure_schema(pg, SCHEMA)
    with pg.cursor() as cursor:
        for table in (*PUBLISHED_TABLES, "provisioning_requests", "stage_records", "stage_resources", "stage_grants"):
            cursor.execute(f"TRUNCATE {SCHEMA}.{table}")
        for table in PUBLISHED_TABLES:
            cursor.execute(
                "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) "
                "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (SNAPSHOT, table),
            )
            (columns,) = cursor.fetchone()
            cursor.execute(f"INSERT INTO {SCHEMA}.{table} ({columns}) SELECT {columns} FROM {SNAPSHOT}.{table}")


def provision(**conf):
    """Trigger the provisioning DAG in-process with this conf, on a freshly parsed DAG (params leak otherwise)."""
    return parse_dag("salesforce_provisioning").test(run_conf=conf)


def named(value):
    """Replace every Salesforce id inside a value with the record's short name from the fixture."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(named(item) for item in value)
    if isinstance(value, dict):
        return {named(k): named(v) for k, v in value.items()}
    text = str(value)
    for record_id, name in NAME.items():
        if record_id in text:
            text = text.replace(record_id, name)
    return text


