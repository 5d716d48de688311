"""The DAG files parse cleanly and are wired as the contract says: ids, schedule, pools, params, orgs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dags_import_without_errors_or_deprecation_warnings():
    bag = dag_bag()

    assert bag.import_errors == {}
    assert bag.captured_warnings == {}
    assert "salesforce_entitlements_sync" in bag.dag_ids


def test_sync_dag_shape():
    dag = dag_bag().dags["salesforce_entitlements_sync"]

    assert dag.schedule == "@daily"
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert sorted(dag.task_ids) == sorted(
        ["start_sync", "preflight", "normalize", "publish", "finalize"]
        + [
            f"extract_{rt}"
            for rt in (
                "user",
                "group",
                "role",
                "permission",
                "permission_set_group",
                "profile",
                "connected_application",
                "territory",
            )
        ]
    )
    extracts = [task for task in dag.tasks if task.task_id.startswith("extract_")]
    assert {task.upstream_task_ids == {"start_sync", "preflight"} for task in extracts} == {True}
    assert dag.get_task("normalize").upstream_task_ids == {t.task_id for t in extracts} | {
        "start_sync",
        "preflight",
    }
    assert dag.get_task("finalize").trigger_rule == "all_done"
    assert {name: param.value for name, param in dag.params.items()} == {
        "username_as_email": False,
        "sync_connected_apps": False,
        "sync_deactivated_users": True,
        "sync_non_standard_users": False,
        "sync_territories": False,
        "license_profile_map": {},
    }


def test_every_salesforce_task_uses_a_pool_that_the_pools_file_creates():
    pools = json.loads((REPO / "config" / "pools.json").read_text())
    bag = dag_bag()

    salesforce_tasks = [
        task
        for dag in bag.dags.values()
        for task in dag.tasks
        if task.task_id == "preflight" or "extract_" in task.task_id
    ]

    assert salesforce_tasks
    assert {task.pool for task in salesforce_tasks} == {"salesforce_api"}
    assert {task.pool for dag in bag.dags.values() for task in dag.tasks} <= set(pools) | {"default_pool"}


def test_each_org_of_the_config_gets_its_own_sync_dag(tmp_path, monkeypatch):
    config = tmp_path / "orgs.yaml"
    config.write_text(
        "orgs:\n"
        "  - name: default\n"
        "    salesforce_conn_id: salesforce_default\n"
        "  - name: emea\n"
        "    salesforce_conn_id: salesforce_emea\n"
        "    schedule: '0 3 * * *'\n"
        "    options: {sync_territories: true}\n"
    )
    monkeypatch.setenv("SALESFORCE_ORGS_CONFIG", str(config))

    bag = dag_bag()

    assert bag.import_errors == {}
    emea = bag.dags["salesforce_entitlements_sync__emea"]
    assert emea.schedule == "0 3 * * *"
    assert emea.params["sync_territories"] is True
    assert bag.dags["salesforce_entitlements_sync"].params["sync_territories"] is False


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("orgs:\n  - name: Bad-Name\n", "orgs[0]: name 'Bad-Name' must be lower case letters, digits and _"),
        (
            "orgs:\n  - name: a\n    options: {sync_teritories: true}\n",
            "orgs[0]: unknown sync option(s) 'sync_teritories'",
        ),
        (
            "orgs:\n  - name: a\n    options: {sync_territories: 'yes'}\n",
            "orgs[0]: option 'sync_territories' must be true or false, got 'yes'.",
        ),
        ("orgs: []\n", "lists no orgs; add at least one under 'orgs:'."),
        (
            "orgs:\n  - name: a\n    schedule: every tuesday\n",
            "orgs[0]: schedule 'every tuesday' is neither a cron expression (five fields, e.g. '0 3 * * *')",
        ),
        ("orgs:\n  - name: a\n    options: [1]\n", "orgs[0]: options must be a mapping of option to value"),
        (
            "orgs:\n  - name: a\n    salesforce_conn_id: 5\n",
            "orgs[0]: salesforce_conn_id must be the id of an",
        ),
    ],
)
def test_a_bad_orgs_config_is_an_import_error_naming_the_entry(tmp_path, monkeypatch, config, message):
    path = tmp_path / "orgs.yaml"
    path.write_text(config)
    monkeypatch.setenv("SALESFORCE_ORGS_CONFIG", str(path))

    errors = dag_bag().import_errors

    error = errors[str(REPO / "dags" / "salesforce_entitlements_sync.py")]
    assert message in error
    assert str(path) in error


def test_the_compose_file_runs_the_pinned_airflow_with_both_databases():
    import yaml

    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    pins = dict(
        line.split("==") for line in (REPO / "requirements.txt").read_text().splitlines() if "==" in line
    )

    services = compose["services"]
    assert set(services) == {
        "postgres",
        "warehouse",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    }
    assert f"FROM apache/airflow:{pins['apache-airflow']}-python3.11" in (REPO / "Dockerfile").read_text()
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "${AIRFLOW_JWT_SECRET:?set AIRFLOW_JWT_SECRET in .env}"
        assert (
            json.loads(
                env["AIRFLOW_CONN_SALESFORCE_WAREHOUSE"].replace(
                    "${WAREHOUSE_PASSWORD:?set WAREHOUSE_PASSWORD in .env}", "x"
                )
            )["host"]
            == "warehouse"
        )
        assert {
            "./dags:/opt/airflow/dags",
            "./plugins:/opt/airflow/plugins",
            "./include:/opt/airflow/include",
            "./config:/opt/airflow/config",
        } <= set(services[name]["volumes"])
        assert services[name]["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    assert services["airflow-init"]["command"][-1] == (
        "airflow db migrate && airflow pools import /opt/airflow/config/pools.json"
    )
