"""Extraction pages through nextRecordsUrl and restarts an object cleanly when its cursor dies."""

from __future__ import annotations

import pytest

from salesforce_access import client as client_module
from salesforce_access import extract, sync
from salesforce_access.settings import OrgConfig, PipelineSettings, SyncOptions
from tests.sync.conftest import SCHEMA
from tools import devenv


@pytest.fixture(scope="module")
def small_org():
    from local_salesforce.testing import start_local_org

    with start_local_org(demo="small", seed=0) as org:
        yield org


@pytest.fixture
def staging(small_org, pg, warehouse_conn_json, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        devenv.salesforce_connection(small_org.url, small_org.ca_bundle, small_org.credentials, "jwt_bearer"),
    )
    small_org.control.clear_faults()
    with pg.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    settings = PipelineSettings(orgs=(OrgConfig("default", "salesforce_default", SyncOptions()),))
    sync_id = sync.start_sync(settings, settings.orgs[0], SyncOptions(), dag_id="test", dag_run_id="paging")
    return sync_id


def staged(pg, sync_id: str, sobject: str) -> tuple[int, int]:
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(DISTINCT record_id) FROM {SCHEMA}.stage_records "
            "WHERE sync_id = %s AND sobject = %s",
            (sync_id, sobject),
        )
        return cursor.fetchone()


def group_members(org) -> int:
    return len(org.control.records("GroupMember"))


def test_every_page_is_staged_once(small_org, staging, pg):
    client = client_module.connect("salesforce_default")
    calls_before = client.api_calls

    counts = extract.extract_resource_type(
        client, "group", SyncOptions(), sync_id=staging, warehouse_conn_id="salesforce_warehouse",
        schema=SCHEMA, batch_size=200,
    )  # fmt: skip

    members = group_members(small_org)
    assert counts["GroupMember"] == members == 470
    assert staged(pg, staging, "GroupMember") == (470, 470)
    # 183 groups fit one page of 200; 470 members take three.
    assert client.api_calls - calls_before == 1 + 3


def test_a_cursor_lost_with_its_session_restarts_the_object_from_the_start(small_org, staging, pg):
    client = client_module.connect("salesforce_default")
    # The second page of the first query answers 401: the client signs in again, the new session
    # does not know the old cursor, and the object is read again from page one.
    small_org.control.inject_fault("401", path_contains="/query/01g", count=1)

    counts = extract.extract_resource_type(
        client, "group", SyncOptions(), sync_id=staging, warehouse_conn_id="salesforce_warehouse",
        schema=SCHEMA, batch_size=200,
    )  # fmt: skip

    assert counts["GroupMember"] == 470
    assert staged(pg, staging, "GroupMember") == (470, 470)
    assert staged(pg, staging, "Group") == (183, 183)
    cursor_calls = [entry["status"] for entry in small_org.control.journal() if "/query/01g" in entry["path"]]
    # 401 on the old session, INVALID_QUERY_LOCATOR (400) on the new one, then the restart's two pages.
    assert cursor_calls[-4:] == [401, 400, 200, 200]


def test_an_api_version_the_org_does_not_serve_names_the_version_extra(small_org, monkeypatch):
    import json

    from salesforce_access.errors import ConfigurationError

    conn = json.loads(
        devenv.salesforce_connection(small_org.url, small_org.ca_bundle, small_org.credentials, "jwt_bearer")
    )
    conn["extra"]["version"] = "99.0"
    monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", json.dumps(conn))
    client = client_module.connect("salesforce_default")

    with pytest.raises(ConfigurationError) as raised:
        list(client.query_pages("SELECT Id FROM Organization", context="reading the Organization"))

    assert raised.value.error_code == "NOT_FOUND"
    assert str(raised.value).startswith(
        "reading the Organization: this org does not serve REST API version 99.0 (Salesforce answered "
    )
    assert str(raised.value).endswith(
        "Set the Salesforce connection's `version` extra to a version the org serves, for example 62.0. "
        "[NOT_FOUND]"
    )
