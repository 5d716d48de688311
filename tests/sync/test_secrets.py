"""Secrets never reach task logs, XCom, the warehouse or exception text, whatever the sign-in flow."""

from __future__ import annotations

import pytest

from tests.fixtures import tiny_org
from tests.fixtures.keys import key_pair
from tests.sync.conftest import SCHEMA, run_sync, task_states
from tools import devenv

pytestmark = pytest.mark.usefixtures("tiny")


def secret_values() -> list[str]:
    key_lines = [line for line in key_pair().private_key_pem.splitlines() if "PRIVATE KEY" not in line]
    return [
        tiny_org.INTEGRATION_PASSWORD,
        tiny_org.INTEGRATION_SECURITY_TOKEN,
        tiny_org.CONSUMER_SECRET,
        tiny_org.REFRESH_TOKEN,
        # Access tokens are `<15-character org id>!<opaque>`.
        tiny_org.ID["ORG"][:15] + "!",
        *key_lines[1:-1],
    ]


def leaks(**places: str) -> list[tuple[str, str]]:
    """(place, secret) for every secret found in the text of a place; empty when nothing leaked."""
    return [(where, secret) for where, text in places.items() for secret in secret_values() if secret in text]


def warehouse_text(pg) -> str:
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            (SCHEMA,),
        )
        tables = [row[0] for row in cursor.fetchall()]
        dump = []
        for table in tables:
            cursor.execute(f"SELECT t::text FROM {SCHEMA}.{table} t")
            dump.extend(row[0] for row in cursor.fetchall())
    return "\n".join(dump)


def xcom_text(dag_run) -> str:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel.value).filter(XComModel.run_id == dag_run.run_id).all()
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize("auth_method", ["jwt_bearer", "client_credentials", "oauth", "password"])
def test_a_sync_with_each_sign_in_flow_leaks_no_secret(
    tiny, tiny_credentials, pg, capfd, all_logs, monkeypatch, auth_method
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        devenv.salesforce_connection(tiny.url, tiny.ca_bundle, tiny_credentials, auth_method),
    )

    dag_run = run_sync()

    assert str(dag_run.state) == "success", task_states(dag_run)
    output = "".join(capfd.readouterr()) + "\n".join(all_logs)
    assert f"with {auth_method}" in output
    assert leaks(output=output, xcom=xcom_text(dag_run), warehouse=warehouse_text(pg)) == []


def test_a_failed_sign_in_records_a_message_without_the_secret(
    tiny, tiny_credentials, pg, capfd, all_logs, monkeypatch
):
    # Built at run time: a traceback quoting this test's source must not look like a leak.
    wrong_secret = "WRONG-SECRET-" + str(1234567890)
    wrong = dict(tiny_credentials, consumer_secret=wrong_secret)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        devenv.salesforce_connection(tiny.url, tiny.ca_bundle, wrong, "client_credentials"),
    )

    dag_run = run_sync()

    assert str(dag_run.state) == "failed"
    output = "".join(capfd.readouterr()) + "\n".join(all_logs)
    text = output + warehouse_text(pg) + xcom_text(dag_run)
    assert "invalid_client" in output
    assert wrong_secret not in text
    assert [secret for secret in secret_values() if secret in text] == []
    with pg.cursor() as cursor:
        cursor.execute(f"SELECT status, error_code FROM {SCHEMA}.sync_runs")
        assert cursor.fetchall() == [("failed", "invalid_client")]
