"""Fixtures for the provisioning DAG: Tiny Co served by a local org, and a warehouse a real sync filled.

The sync runs once per session (territories on, a license-to-profile map set); each test gets Tiny Co
reloaded into the local org and the synced warehouse restored from a snapshot, so every test starts
from the same Salesforce and warehouse state without paying for a sync.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.tiny_org import ID, NAME
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
def synced_snapshot(request, warehouse_conn_json, airflow_db, orgs_config):
    """Run the sync DAG once on Tiny Co and keep a copy of the published tables."""
    import psycopg2

    server, fixture, credentials = _tiny(request)

    with pytest.MonkeyPatch.context() as patch:
        for key, value in _environment(server, credentials, orgs_config).items():
            patch.setenv(key, value)
        server.control.load_fixture(fixture)
        server.control.clear_faults()
        conn = _connect(warehouse_conn_json, psycopg2)
        with conn.cursor() as cursor:
            cursor.execute(
                f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"
            )
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
def org(request, synced_snapshot, orgs_config, pg, monkeypatch):
    """Tiny Co freshly loaded and the warehouse as the session's sync left it; returns the local org."""
    server, fixture, credentials = _tiny(request)
    for key, value in _environment(server, credentials, orgs_config).items():
        monkeypatch.setenv(key, value)
    server.control.load_fixture(fixture)
    server.control.clear_faults()
    restore_warehouse(pg)
    return server


def _tiny(request) -> tuple:
    """The local org, its fixture and its credentials: the sync tests' session fixtures."""
    return tuple(
        request.getfixturevalue(name) for name in ("tiny_server", "tiny_fixture", "tiny_credentials")
    )


def restore_warehouse(pg) -> None:
    from salesforce_access import warehouse

    warehouse.ensure_schema(pg, SCHEMA)
    with pg.cursor() as cursor:
        for table in (
            *PUBLISHED_TABLES,
            "provisioning_requests",
            "stage_records",
            "stage_resources",
            "stage_grants",
        ):
            cursor.execute(f"TRUNCATE {SCHEMA}.{table}")
        for table in PUBLISHED_TABLES:
            cursor.execute(
                "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM "
                "information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (SNAPSHOT, table),
            )
            (columns,) = cursor.fetchone()
            cursor.execute(
                f"INSERT INTO {SCHEMA}.{table} ({columns}) SELECT {columns} FROM {SNAPSHOT}.{table}"
            )


def provision(**conf):
    """Run the provisioning DAG in-process with this conf, on a freshly parsed DAG (params leak otherwise)."""
    return parse_dag("salesforce_provisioning").test(run_conf=conf)


def named(value):
    """Replace every Salesforce id inside a value with the record's short name from the fixture."""
    if value is None:
        return None
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return [named(item) for item in value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(named(item) for item in value)
    if isinstance(value, dict):
        return {named(k): named(v) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    text = value
    for record_id, name in NAME.items():
        if record_id in text:
            text = text.replace(record_id, name)
    return text


# -- what the tests read back -------------------------------------------------------------------------------


def request_row(pg) -> dict:
    """The one provisioning_requests row, ids replaced by fixture names."""
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT request_id, dag_run_id, org_id, action, parameters, status, outcome, "
            "salesforce_record_id, changes, error_code, error_message, user_id, entitlement_id, dry_run, "
            "warehouse_refreshed_at IS NOT NULL AS warehouse_refreshed, warehouse_error, finished_at IS NOT "
            f"NULL AS finished FROM {SCHEMA}.provisioning_requests"
        )
        columns = [d.name for d in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 1, rows
    row = dict(zip(columns, rows[0], strict=True))
    assert row["request_id"] == row["dag_run_id"]
    assert row["finished"] is True
    for key in ("org_id", "salesforce_record_id", "user_id", "entitlement_id", "parameters"):
        row[key] = named(row[key])
    row["changes"] = None if row["changes"] is None else [named(change) for change in row["changes"]]
    return row


def user_grants(pg, user: str) -> set[tuple]:
    """A user's grants: (entitlement, is_direct, sources, source record, expires_at), by fixture names."""
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT entitlement_id, is_direct, sources, source_record_id, to_char(expires_at AT TIME ZONE "
            f"'UTC', 'YYYY-MM-DD HH24:MI') FROM {SCHEMA}.grants WHERE principal_type = 'user' AND "
            "principal_id = %s",
            (ID[user],),
        )
        rows = cursor.fetchall()
    return {
        (named(e), direct, named(sources), named(record), expires)
        for e, direct, sources, record, expires in rows
    }


def direct(entitlement: str, record: str, *sources: str, expires: str | None = None) -> tuple:
    return (entitlement, True, frozenset(sources), record, expires)


def derived(entitlement: str, *sources: str) -> tuple:
    return (entitlement, False, frozenset(sources), None, None)


def history_changes(pg, request_id: str) -> dict[str, set]:
    """grant_history rows this request opened and closed: {(entitlement, principal)}."""
    marker = f"provisioning:{request_id}"
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT entitlement_id, principal_id, first_seen_sync_id = %(m)s, revoked_sync_id = %(m)s FROM "
            f"{SCHEMA}.grant_history WHERE first_seen_sync_id = %(m)s OR revoked_sync_id = %(m)s",
            {"m": marker},
        )
        rows = cursor.fetchall()
    return {
        "opened": {(named(e), named(p)) for e, p, opened, _ in rows if opened},
        "closed": {(named(e), named(p)) for e, p, _, closed in rows if closed},
    }


def user_resource(pg, user: str) -> tuple | None:
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT display_name, login, status, user_type, profile_id, role_id FROM {SCHEMA}.resources "
            "WHERE resource_type = 'user' AND resource_id = %s",
            (ID[user],),
        )
        row = cursor.fetchone()
    return None if row is None else (*row[:4], named(row[4]), named(row[5]))


def sf_records(org, sobject: str, **match) -> list[dict]:
    """Records of one object in the local org whose fields equal ``match`` (ids by fixture name)."""
    wanted = {key: ID.get(value, value) for key, value in match.items()}
    return [r for r in org.control.records(sobject) if all(r.get(k) == v for k, v in wanted.items())]


def entitlement(kind: str, name: str, slug: str) -> str:
    return f"{kind}:{ID[name]}:{slug}"
