"""Fixtures for end-to-end runs of the sync DAG: Tiny Co served by a local org, a real warehouse."""

from __future__ import annotations

import os

import pytest

from tests.fixtures import tiny_org
from tests.fixtures.keys import key_pair
from tools import devenv

SCHEMA = "salesforce_access"


@pytest.fixture(scope="session")
def tiny_fixture() -> dict:
    return tiny_org.build(key_pair().certificate_pem)


@pytest.fixture(scope="session")
def tiny_credentials() -> dict:
    return {
        "username": tiny_org.INTEGRATION_USERNAME,
        "password": tiny_org.INTEGRATION_PASSWORD,
        "security_token": tiny_org.INTEGRATION_SECURITY_TOKEN,
        "consumer_key": tiny_org.CONSUMER_KEY,
        "consumer_secret": tiny_org.CONSUMER_SECRET,
        "private_key_pem": key_pair().private_key_pem,
        "refresh_token": tiny_org.REFRESH_TOKEN,
    }


@pytest.fixture(scope="session")
def tiny_server(tiny_fixture):
    from local_salesforce.testing import start_local_org

    with start_local_org(fixture=tiny_fixture) as org:
        yield org


@pytest.fixture
def tiny(tiny_server, tiny_fixture, tiny_credentials, warehouse_conn_json, airflow_db, pg, monkeypatch):
    """Tiny Co freshly loaded, the sync DAG's connection pointing at it, and an empty warehouse schema."""
    tiny_server.control.load_fixture(tiny_fixture)
    tiny_server.control.clear_faults()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        devenv.salesforce_connection(
            tiny_server.url, tiny_server.ca_bundle, tiny_credentials, "client_credentials"
        ),
    )
    monkeypatch.delenv("SALESFORCE_ORGS_CONFIG", raising=False)
    with pg.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    return tiny_server


def parse_dag(dag_id: str = "salesforce_entitlements_sync"):
    """A freshly parsed DAG: `dag.test()` writes a run's conf into the params of the object it runs."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert bag.import_errors == {}, bag.import_errors
    dag = bag.get_dag(dag_id)
    for task in dag.tasks:
        task.retries = 0  # failure paths must not wait out retry delays
    return dag


def run_sync(conf: dict | None = None, dag_id: str = "salesforce_entitlements_sync"):
    dag = parse_dag(dag_id)
    return dag.test(run_conf=conf or {})


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
