"""Org switches, caller permissions, limits, injected faults, the control API and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from local_salesforce.testing import start_local_org
from tests.local_org.conftest import client_credentials_token, direct_client

REPO = Path(__file__).resolve().parents[2]


def _failure(call, exception):
    with pytest.raises(exception) as failure:
        call()
    return failure.value


def _strip_integration_access(admin_sf, ids) -> None:
    """Leave the integration user with only its profile's permission set (API Enabled, nothing else)."""
    admin_sf.PermissionSetAssignment.delete(ids["psa_int"])


def test_api_disabled_for_the_org(local_org, sf):
    local_org.control.set_switches(api_enabled=False)

    failure = _failure(lambda: sf.query("SELECT Id FROM User"), SalesforceRefusedRequest)

    assert failure.content == [
        {"message": "The REST API is not enabled for this Organization.", "errorCode": "API_DISABLED_FOR_ORG"}
    ]


def test_user_without_api_enabled(local_org, admin_sf, ids):
    token = client_credentials_token(local_org)
    admin_sf.PermissionSet.update(ids["ps_prof_api"], {"PermissionsApiEnabled": False})
    admin_sf.PermissionSet.update(ids["ps_integration"], {"PermissionsApiEnabled": False})

    failure = _failure(
        lambda: direct_client(local_org, token).query("SELECT Id FROM User"), SalesforceRefusedRequest
    )

    assert failure.content == [
        {"message": "API is disabled for this User", "errorCode": "API_CURRENTLY_DISABLED"}
    ]


@pytest.mark.parametrize(
    "object_name", ["UserLogin", "PermissionSetAssignment", "ConnectedApplication", "SetupEntityAccess"]
)
def test_reads_that_need_setup_permissions(local_org, admin_sf, ids, object_name):
    _strip_integration_access(admin_sf, ids)
    sf = direct_client(local_org, client_credentials_token(local_org))

    failure = _failure(lambda: sf.query(f"SELECT Id FROM {object_name}"), SalesforceRefusedRequest)

    assert failure.content == [
        {"message": "insufficient access rights on object id", "errorCode": "INSUFFICIENT_ACCESS"}
    ]
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 8


def test_dml_that_needs_manage_users(local_org, admin_sf, ids):
    _strip_integration_access(admin_sf, ids)
    sf = direct_client(local_org, client_credentials_token(local_org))

    user = _failure(lambda: sf.User.update(ids["user_1"], {"Title": "x"}), SalesforceMalformedRequest)
    assignment = _failure(
        lambda: sf.PermissionSetAssignment.create(
            {"AssigneeId": ids["user_3"], "PermissionSetId": ids["ps_sales_ops"]}
        ),
        SalesforceMalformedRequest,
    )

    assert user.content == [
        {
            "message": "insufficient access rights on object id",
            "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY",
            "fields": [],
        }
    ]
    assert assignment.content == [
        {
            "message": f"insufficient access rights on cross-reference id: {ids['ps_sales_ops']}",
            "errorCode": "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
            "fields": [],
        }
    ]


def test_daily_api_limit_and_limit_info_header(local_org, sf):
    sf.query("SELECT Id FROM Organization")
    used = local_org.control.api_calls()["api_usage"]
    assert sf.api_usage["api-usage"].used == used
    local_org.control.set_switches(daily_api_limit=used + 1)

    sf.query("SELECT Id FROM Organization")
    failure = _failure(lambda: sf.query("SELECT Id FROM Organization"), SalesforceRefusedRequest)

    assert failure.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert sf.api_usage["api-usage"].total == used + 1


def test_injected_503_with_retry_after_then_recovery(local_org, sf, http):
    local_org.control.inject_fault("503", path_contains="/query", count=2, retry_after=3)

    raw = http.get(
        f"{local_org.url}/services/data/v59.0/query",
        params={"q": "SELECT Id FROM User"},
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    failure = _failure(lambda: sf.query("SELECT Id FROM User"), SalesforceGeneralError)

    assert (raw.status_code, raw.headers["Retry-After"]) == (503, "3")
    assert failure.status == 503
    assert failure.content == [{"message": "Server too busy", "errorCode": "SERVER_UNAVAILABLE"}]
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 8


@pytest.mark.parametrize(
    ("kind", "exception", "status", "code"),
    [
        ("503_html", SalesforceGeneralError, 503, None),
        ("500", SalesforceGeneralError, 500, "UNKNOWN_EXCEPTION"),
        ("lock", SalesforceMalformedRequest, 400, "UNABLE_TO_LOCK_ROW"),
        ("timeout", SalesforceMalformedRequest, 400, "QUERY_TIMEOUT"),
    ],
)
def test_injected_faults(local_org, sf, kind, exception, status, code):
    local_org.control.inject_fault(kind, path_contains="/services/data/", count=1)

    failure = _failure(lambda: sf.query("SELECT Id FROM User"), exception)

    assert failure.status == status
    if code is None:
        assert isinstance(failure.content, str) and "Service Unavailable" in failure.content
    else:
        assert failure.content[0]["errorCode"] == code


def test_api_versions(local_org, sf, http):
    versions = http.get(f"{local_org.url}/services/data/").json()
    old = direct_client(local_org, sf.session_id)
    old.base_url = old.base_url.replace("v59.0", "v67.0")

    assert versions[0] == {"label": "Winter '11", "url": "/services/data/v20.0", "version": "20.0"}
    assert versions[-1] == {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"}
    assert _failure(lambda: old.query("SELECT Id FROM User"), SalesforceResourceNotFound).status == 404


def test_control_records_and_journal(local_org, sf, ids):
    sf.User.update(ids["user_2"], {"Title": "Engineer"})

    stored = {r["Id"]: r for r in local_org.control.records("User")}
    journal = local_org.control.journal()

    assert stored[ids["user_2"]]["Title"] == "Engineer"
    assert (journal[-1]["method"], journal[-1]["path"], journal[-1]["status"]) == (
        "PATCH",
        f"/services/data/v59.0/sobjects/User/{ids['user_2']}",
        204,
    )


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local_salesforce", "--port", "0", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_rejects_a_bad_fixture_in_one_line(tmp_path, org_data):
    fixture = json.loads(json.dumps(org_data.fixture))
    fixture["records"]["User"][1]["ProfileId"] = "00e000000000000AAA"
    path = tmp_path / "org.json"
    path.write_text(json.dumps(fixture))

    result = _run_cli("--fixture", str(path))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"local_salesforce: bad fixture: {path}: records.User (Id {org_data.ids['user_int']}): ProfileId "
        "00e000000000000AAA points at no Profile record"
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON: Expecting property name"),
        ('{"format": 1, "records": {"Account": []}}', "records.Account: unknown sObject type 'Account'"),
    ],
)
def test_cli_reports_unreadable_fixtures(tmp_path, content, problem):
    path = tmp_path / "org.json"
    path.write_text(content)

    result = _run_cli("--fixture", str(path))

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"{path}: {problem}" in result.stderr


def test_cli_missing_file(tmp_path):
    result = _run_cli("--fixture", str(tmp_path / "nope.json"))

    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"local_salesforce: bad fixture: {tmp_path / 'nope.json'}: cannot read: No such file or directory"
    )


def test_fields_newer_than_the_request_version_do_not_exist(local_org, sf):
    old = direct_client(local_org, sf.session_id)
    old.base_url = old.base_url.replace("v59.0", "v51.0")

    failure = _failure(
        lambda: old.query("SELECT ExpirationDate FROM PermissionSetAssignment"), SalesforceMalformedRequest
    )

    assert failure.content[0]["errorCode"] == "INVALID_FIELD"
    assert (
        "No such column 'ExpirationDate' on entity 'PermissionSetAssignment'."
        in failure.content[0]["message"]
    )
    assert sf.query("SELECT COUNT(ExpirationDate) FROM PermissionSetAssignment")["records"][0]["expr0"] == 0


def test_lightning_host_redirects_to_my_domain(local_org):
    session = local_org.loopback_session()

    response = session.get("https://acme.lightning.force.com/services/data/", allow_redirects=False)

    assert response.status_code == 302
    assert response.headers["Location"] == "https://acme.my.salesforce.com/services/data/"


def test_client_credentials_refused_on_the_generic_login_host(local_org):
    from tests.local_org import orgdata

    response = local_org.loopback_session().post(
        "https://login.salesforce.com/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(orgdata.CONSUMER_KEY, orgdata.CONSUMER_SECRET),
    )

    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "request not supported on this domain",
    }


def test_long_uri_is_414_html(sf, ids):
    id_list = ", ".join(f"'{ids['user_1']}'" for _ in range(700))

    failure = _failure(
        lambda: sf.query(f"SELECT Id FROM User WHERE Id IN ({id_list})"), SalesforceGeneralError
    )

    assert failure.status == 414
    assert failure.content == "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>"


def test_injected_latency_delays_then_answers(local_org, sf):
    local_org.control.inject_fault("latency", path_contains="/query", count=1, latency_ms=300)

    started = time.monotonic()
    result = sf.query("SELECT COUNT() FROM User")

    assert time.monotonic() - started >= 0.3
    assert result["totalSize"] == 8


def test_demo_org_starts_with_credentials(tmp_path):
    with start_local_org(demo="small", seed=3) as org:
        credentials_path = Path(org.state_dir) / "credentials.json"
        token = (
            org.http_session()
            .post(
                f"{org.url}/services/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(org.credentials["consumer_key"], org.credentials["consumer_secret"]),
            )
            .json()["access_token"]
        )
        sf = direct_client(org, token)

        assert oct(credentials_path.stat().st_mode & 0o777) == "0o600"
        assert sf.query("SELECT COUNT() FROM Organization")["totalSize"] == 1
        assert (
            sf.query(f"SELECT Username FROM User WHERE Username = '{org.credentials['username']}'")[
                "totalSize"
            ]
            == 1
        )


def test_probabilistic_faults_are_seeded(local_org, sf):
    def outcomes() -> list[int]:
        local_org.control.reset()
        client = direct_client(local_org, client_credentials_token(local_org))
        local_org.control.inject_fault("lock", path_contains="/query", count=None, probability=0.5)
        statuses = []
        for _ in range(12):
            try:
                client.query("SELECT Id FROM Organization")
                statuses.append(200)
            except SalesforceMalformedRequest:
                statuses.append(400)
        return statuses

    first, second = outcomes(), outcomes()

    assert first == second
    assert 0 < first.count(400) < 12


def test_oversized_headers_are_431(local_org, http):
    response = http.get(f"{local_org.url}/services/data/v59.0/limits", headers={"X-Padding": "x" * 17000})

    assert response.status_code == 431
