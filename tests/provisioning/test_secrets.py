"""The provisioning DAG leaks no secret either: not in task output, XCom, the warehouse or error text."""

from __future__ import annotations

import pytest

from tests.fixtures.tiny_org import ID
from tests.provisioning.conftest import entitlement, provision, request_row, task_states
from tests.sync.test_secrets import leaks, secret_values, warehouse_text, xcom_text
from tools import devenv


@pytest.mark.parametrize("auth_method", ["jwt_bearer", "client_credentials", "oauth", "password"])
def test_a_grant_with_each_sign_in_flow_leaks_no_secret(
    org, tiny_credentials, pg, capfd, all_logs, monkeypatch, auth_method
):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        devenv.salesforce_connection(org.url, org.ca_bundle, tiny_credentials, auth_method),
    )

    run = provision(
        action="grant", entitlement_id=entitlement("group", "G_SALES", "member"), user_id=ID["U_ODD"]
    )

    assert str(run.state) == "success", task_states(run)
    assert request_row(pg)["outcome"] == "granted"
    output = "".join(capfd.readouterr()) + "\n".join(all_logs)
    assert f"with {auth_method}" in output
    assert leaks(output=output, xcom=xcom_text(run), warehouse=warehouse_text(pg)) == []


def test_a_refused_sign_in_is_recorded_without_the_secret(
    org, tiny_credentials, pg, capfd, all_logs, monkeypatch
):
    # Built at run time: a traceback quoting this test's source must not look like a leak.
    wrong_password, wrong_token = "Wrong-Password-" + str(55443322), "WRONGTOKEN" + str(998877)
    wrong = dict(tiny_credentials, password=wrong_password, security_token=wrong_token)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_DEFAULT",
        devenv.salesforce_connection(org.url, org.ca_bundle, wrong, "password"),
    )

    run = provision(action="update_user_status", user_id=ID["U_ODD"], is_active=False)

    assert str(run.state) == "failed"
    row = request_row(pg)
    assert (row["status"], row["error_code"]) == ("failed", "INVALID_LOGIN")
    text = "".join(capfd.readouterr()) + "\n".join(all_logs) + warehouse_text(pg) + xcom_text(run)
    for secret in (wrong_password, wrong_token, *secret_values()):
        assert secret not in text
