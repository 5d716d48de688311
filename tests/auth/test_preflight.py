"""Preflight against the local org: what a well-permissioned user, a thin one and a thin org report."""

from __future__ import annotations

import json

import pytest
from simple_salesforce import Salesforce

from salesforce_access import preflight
from salesforce_access.auth import SalesforceCredentials, new_http_session, sign_in
from salesforce_access.domains import normalize_domain
from salesforce_access.errors import FeatureNotEnabledError, MissingPermissionError
from salesforce_access.preflight import raise_for_provisioning, raise_for_sync, run_preflight

pytestmark = pytest.mark.slow

ALL_GRANTED = {
    "ApiEnabled": True,
    "ViewSetup": True,
    "ManageUsers": True,
    "ManageInternalUsers": False,
    "AssignPermissionSets": False,
    "ManageRoles": True,
    "CustomizeApplication": True,
    "ManageTerritories": True,
    "ModifyAllData": False,
}
FIX = (
    "Add it to a permission set assigned to the integration user: Setup > Permission Sets > (the set) > "
    "System Permissions > Edit."
)
TERRITORIES_OFF = (
    "Enterprise Territory Management 2.0 is not enabled in this org, so the Territory2 objects do not exist. "
    "Turn it on in Setup > Territory Settings > Enable Enterprise Territory Management, or set the option "
    "sync_territories to false."
)


def _preflight(org, acme, username: str, **options):
    credentials = SalesforceCredentials(
        conn_id="salesforce_default",
        auth_method="jwt_bearer",
        hosts=normalize_domain(org.url),
        ca_bundle=org.ca_bundle,
        consumer_key=acme.jwt_key,
        private_key=acme.private_key,
        jwt_subject=username,
    )
    signin = sign_in(credentials)
    sf = Salesforce(
        instance_url=signin.instance_url,
        session_id=signin.access_token,
        session=new_http_session(credentials),
        version=credentials.api_version,
    )
    return run_preflight(sf, signin, options)


def _lacks(username: str, permission: str, why: str) -> str:
    return f"The integration user {username!r} lacks the system permission {permission}, needed {why}. {FIX}"


@pytest.mark.parametrize("username", ["integration@acme.test", "bundled@acme.test"])
def test_well_permissioned_user_can_sync_and_provision(org, acme, username):
    report = _preflight(org, acme, username, sync_connected_apps=True, sync_territories=False)

    assert report == preflight.PreflightReport(
        org_id=acme.org_id,
        org_name="Acme Test",
        edition="Enterprise Edition",
        is_sandbox=False,
        instance_url=org.url,
        user_id=acme.user_ids[username],
        username=username,
        permissions=ALL_GRANTED,
        can_sync=True,
        can_provision=True,
        problems=[],
        warnings=[],
        options={"sync_connected_apps": True, "sync_territories": False},
        territories_enabled=None,
        api_refusal=None,
    )
    raise_for_sync(report)
    raise_for_provisioning(report, "grant", "role")
    raise_for_provisioning(report, "create_account")


def test_user_missing_permissions_gets_each_one_named(org, acme):
    report = _preflight(org, acme, acme.limited, sync_connected_apps=True)

    manage_users = "Manage Users (PermissionsManageUsers)"
    assert (report.can_sync, report.can_provision) == (False, False)
    assert report.permissions == {**dict.fromkeys(ALL_GRANTED, False), "ApiEnabled": True}
    assert report.problems == [
        _lacks(
            acme.limited, manage_users, "to read users, their logins and their permission set assignments"
        ),
        _lacks(
            acme.limited,
            "Customize Application (PermissionsCustomizeApplication)",
            "to read connected apps (sync_connected_apps is on)",
        ),
        _lacks(
            acme.limited,
            f"{manage_users} or Assign Permission Sets (PermissionsAssignPermissionSets)",
            "to assign and remove permission sets",
        ),
        _lacks(
            acme.limited,
            f"{manage_users} or Manage Internal Users (PermissionsManageInternalUsers)",
            "to add users to public groups and remove them",
        ),
        _lacks(
            acme.limited,
            "Manage Roles and Role Hierarchy (PermissionsManageRoles)",
            "to grant and revoke roles",
        ),
    ]
    assert report.warnings == [
        "The integration user cannot read its permission set assignments, so only its profile's permissions "
        "were checked."
    ]

    with pytest.raises(MissingPermissionError) as sync:
        raise_for_sync(report)
    with pytest.raises(MissingPermissionError) as role:
        raise_for_provisioning(report, "revoke", "role")

    assert str(sync.value) == (
        f"Cannot sync in Salesforce org Acme Test:\n- {report.problems[0]}\n- {report.problems[1]} "
        "[MISSING_PERMISSION]"
    )
    assert str(role.value) == (
        "Cannot revoke role in Salesforce org Acme Test:\n- "
        + _lacks(
            acme.limited,
            "Manage Roles and Role Hierarchy (PermissionsManageRoles)",
            "to grant and revoke roles",
        )
        + "\n- "
        + _lacks(acme.limited, manage_users, "to change users and their access")
        + " [MISSING_PERMISSION]"
    )


def test_territories_requested_while_territory_management_is_off(org, acme):
    report = _preflight(org, acme, acme.integration, sync_territories=True)

    assert (report.can_sync, report.can_provision, report.territories_enabled) == (False, False, False)
    assert report.problems == [TERRITORIES_OFF]
    with pytest.raises(FeatureNotEnabledError) as raised:
        raise_for_sync(report)
    assert (
        str(raised.value) == f"Cannot sync in Salesforce org Acme Test:\n- {TERRITORIES_OFF} [INVALID_TYPE]"
    )


def test_territory_management_on_without_an_active_model_only_warns(org, acme):
    org.control.set_switches(territory_management=True)

    report = _preflight(org, acme, acme.integration, sync_territories=True)

    assert (report.can_sync, report.can_provision, report.territories_enabled) == (True, True, True)
    assert report.problems == []
    assert report.warnings == [
        "Enterprise Territory Management is on but no territory model is active, so no territories will be "
        "synced. Activate a model in Setup > Territory Models."
    ]


def test_user_without_api_access(org, acme):
    report = _preflight(org, acme, acme.no_api)

    assert (report.org_id, report.username, report.permissions, report.api_refusal) == (
        None,
        None,
        {},
        "API_CURRENTLY_DISABLED",
    )
    assert report.problems == [
        "The integration user lacks the system permission API Enabled (PermissionsApiEnabled), needed for "
        f"every API call. {FIX}"
    ]
    with pytest.raises(MissingPermissionError) as raised:
        raise_for_provisioning(report, "update_user_status")
    assert raised.value.error_code == "API_CURRENTLY_DISABLED"


def test_org_without_api_access(org, acme):
    org.control.set_switches(api_enabled=False)

    report = _preflight(org, acme, acme.integration)

    assert report.problems == [
        "This org has no API access (API_DISABLED_FOR_ORG). Only Enterprise, Unlimited, Developer and "
        "Performance editions, or Professional Edition with the API add-on, have API access."
    ]
    with pytest.raises(FeatureNotEnabledError) as raised:
        raise_for_sync(report)
    assert str(raised.value) == (
        f"Cannot sync in Salesforce org {org.url}:\n- {report.problems[0]} [API_DISABLED_FOR_ORG]"
    )


def test_command_prints_the_report(org, acme, airflow_connection, capsys):
    airflow_connection(
        "salesforce_default",
        domain=org.url,
        ca_bundle=org.ca_bundle,
        auth_method="client_credentials",
        consumer_key=acme.cc_key,
        consumer_secret=acme.cc_secret,
    )

    text_status = preflight.main(["--conn-id", "salesforce_default"])
    text = capsys.readouterr().out
    json_status = preflight.main(["--conn-id", "salesforce_default", "--json", "--sync-territories"])
    report = json.loads(capsys.readouterr().out)

    assert text_status == 0
    assert text.splitlines() == [
        f"Org:          Acme Test ({acme.org_id}), Enterprise Edition, production",
        f"API base:     {org.url}",
        f"User:         integration@acme.test ({acme.user_ids[acme.integration]})",
        "Permissions:",
        "  [x] API Enabled",
        "  [x] View Setup and Configuration",
        "  [x] Manage Users",
        "  [ ] Manage Internal Users",
        "  [ ] Assign Permission Sets",
        "  [x] Manage Roles and Role Hierarchy",
        "  [x] Customize Application",
        "  [x] Manage Territories",
        "  [ ] Modify All Data",
        "Sync:         ready",
        "Provisioning: ready",
    ]
    assert json_status == 1
    assert (report["can_sync"], report["problems"], report["options"]) == (
        False,
        [TERRITORIES_OFF],
        {"sync_connected_apps": False, "sync_territories": True},
    )
    assert acme.cc_secret not in text + json.dumps(report)


def test_command_reports_a_sign_in_failure(org, acme, airflow_connection, capsys):
    airflow_connection(
        "salesforce_default",
        domain=org.url,
        ca_bundle=org.ca_bundle,
        auth_method="client_credentials",
        consumer_key=acme.cc_key,
        consumer_secret="wrong-secret",
    )

    status = preflight.main(["--conn-id", "salesforce_default"])
    captured = capsys.readouterr()

    assert status == 2
    assert captured.out == ""
    assert captured.err.startswith(
        f"Preflight of connection 'salesforce_default' failed: Signing in to {org.url} with "
        "client_credentials (connection 'salesforce_default'): Salesforce answered \"invalid client "
        'credentials"'
    )
    assert "wrong-secret" not in captured.err
