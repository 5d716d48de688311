"""Requests the provisioning DAG refuses: at trigger time (the parameter schema) or in validate_request.

A request refused by the schema never becomes a run. One refused by validate_request is recorded as
`rejected` with a message naming the parameter, and Salesforce is left exactly as it was.
"""

from __future__ import annotations

import pytest

from tests.fixtures.tiny_org import ID
from tests.provisioning.conftest import entitlement, provision, request_row, sf_records, task_states

pytestmark = pytest.mark.usefixtures("org")

GOOD_ACCOUNT = {
    "email": "nina@tiny.example",
    "first_name": "Nina",
    "last_name": "New",
    "alias": "nnew",
    "profile": "Standard User",
    "time_zone": "Europe/Berlin",
}


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        (
            {"action": "grant", "entitlement_id": "permission:0PS0000000000AB:assigned", "user_id": "alice"},
            "'alice' does not match",
        ),
        (
            {"action": "grant", "entitlement_id": "permission set 0PS", "user_id": "005000000000019AAA"},
            "does not match",
        ),
        ({"action": "remove_user", "user_id": "005000000000019AAA"}, "'remove_user' is not one of"),
        (
            {"action": "update_user_status", "user_id": "005000000000019AAA", "is_active": "no"},
            "'no' is not of type",
        ),
        ({"entitlement_id": None}, "Invalid input for param action: No value passed"),
    ],
)
def test_the_parameter_schema_refuses_malformed_conf_before_any_run(conf, message):
    from airflow.sdk.definitions.param import ParamValidationError

    with pytest.raises(ParamValidationError, match=message):
        provision(**conf)


def rejected(run, pg) -> dict:
    assert str(run.state) == "failed"
    assert task_states(run) == {
        "preflight": "success",
        "validate_request": "failed",
        "provision": "upstream_failed",
        "refresh_warehouse": "upstream_failed",
        "finalize": "failed",
    }
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"], row["changes"]) == (
        "rejected", None, None, None,
    )  # fmt: skip
    return row


def assert_salesforce_untouched(org, tiny_fixture) -> None:
    for sobject in ("PermissionSetAssignment", "GroupMember", "UserTerritory2Association"):
        assert len(org.control.records(sobject)) == len(tiny_fixture["records"][sobject])
    assert [
        (u["Id"], u["ProfileId"], u["UserRoleId"], u["IsActive"]) for u in org.control.records("User")
    ] == [(u["Id"], u["ProfileId"], u["UserRoleId"], u["IsActive"]) for u in tiny_fixture["records"]["User"]]


UNKNOWN_PS = "0PS" + "0" * 9 + "999"  # well formed, no such permission set


@pytest.mark.parametrize(
    ("conf", "code", "message"),
    [
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": f"permission:{UNKNOWN_PS}:assigned",
                "user_id": ID["U_ALICE"],
            },
            "UNKNOWN_ENTITLEMENT",
            f"Parameter entitlement_id: 'permission:{UNKNOWN_PS}:assigned' names PermissionSet "
            f"{UNKNOWN_PS}GAA, which does not exist in this org (deleted, or an id of another org). Check "
            "the id against the org the salesforce_conn_id parameter selects.",
            id="unknown-entitlement",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("permission", "PS_REPORTS", "assigned"),
                "user_id": ID["G_SALES"],
            },
            "GROUP_PRINCIPAL",
            f"Parameter user_id: {ID['G_SALES']} is a group. Only users are provisioned: nested group "
            "membership is not offered. Grant the entitlement to each user, or add the group in Salesforce "
            "Setup.",
            id="group-principal",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("permission", "PS_REPORTS", "assigned"),
                "user_id": ID["PS_SALES"],
            },
            "WRONG_ID_TYPE",
            f"Parameter user_id: '{ID['PS_SALES']}' is a PermissionSet id (prefix 0PS), not a User id "
            "(prefix 005).",
            id="non-user-id",
        ),
        pytest.param(
            {
                "action": "revoke",
                "entitlement_id": entitlement("profile", "P_INT", "assigned"),
                "user_id": ID["U_SVC"],
            },
            "NO_LEAST_PRIVILEGED_PROFILE",
            "Parameter entitlement_id: revoking profile 'Minimum Access - API Only Integrations' moves the "
            "user to the least-privileged profile of its license 'Salesforce Integration', but the org "
            "'default' has no license_profile_map entry for 'Salesforce Integration' (entries: "
            "{'Salesforce': 'Minimum Access - Salesforce'}). Add one to its options in the orgs config, "
            "e.g. license_profile_map: "
            '{"Salesforce Integration": "<profile name>"}.',
            id="profile-revoke-without-map-entry",
        ),
        pytest.param(
            {"action": "create_account", "account": {**GOOD_ACCOUNT, "alias": "ninanewby"}},
            "INVALID_PARAMETER",
            "Parameter account.alias: 'ninanewby' is 9 characters; Salesforce allows at most 8. Shorten it.",
            id="alias-too-long",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("permission", "PS_REPORTS", "member"),
                "user_id": ID["U_ALICE"],
            },
            "INVALID_PARAMETER",
            f"Parameter entitlement_id: 'permission:{ID['PS_REPORTS']}:member' has slug 'member', but a "
            "permission offers assigned.",
            id="wrong-slug",
        ),
        pytest.param(
            {"action": "delete_account", "user_id": ID["U_ODD"]},
            "NOT_OFFERED",
            "Parameter action: deleting accounts is not offered; Salesforce does not delete users. To take "
            "someone's access away, deactivate the user: action update_user_status with user_id and "
            "is_active false.",
            id="account-deletion",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("group", "G_VP_R", "member"),
                "user_id": ID["U_ODD"],
            },
            "NOT_PROVISIONABLE",
            f"Parameter entitlement_id: group 'VP Sales (Role)' ({ID['G_VP_R']}) is of type Role. "
            "Salesforce computes the members of such groups itself; only public groups (Regular) and "
            f"queues take members. Request role:{ID['R_VP']}:assigned instead.",
            id="computed-group",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("connected_application", "APP_LOADER", "access"),
                "user_id": ID["U_ODD"],
            },
            "NOT_PROVISIONABLE",
            f"Parameter entitlement_id: 'connected_application:{ID['APP_LOADER']}:access' is access to a "
            "connected app, which users get through the profiles, permission sets and permission set "
            "groups that open the app; it is read-only here. Grant one of those instead (the warehouse's "
            "entitlement_edges lists them).",
            id="connected-app",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("permission", "PS_P_STD", "assigned"),
                "user_id": ID["U_ODD"],
            },
            "NOT_PROVISIONABLE",
            f"Parameter entitlement_id: permission set 'Standard User' ({ID['PS_P_STD']}) belongs to "
            f"profile {ID['P_STD']}; Salesforce assigns it with the profile. Request "
            f"profile:{ID['P_STD']}:assigned instead.",
            id="profile-owned-permission-set",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("profile", "P_CHATTER", "assigned"),
                "user_id": ID["U_ALICE"],
            },
            "USER_TYPE_MISMATCH",
            f"Parameter user_id: user 'alice@tiny.example' ({ID['U_ALICE']}) has UserType 'Standard' and "
            f"cannot hold 'profile:{ID['P_CHATTER']}:assigned': profile 'Chatter Free User' is for users of "
            "type 'CsnOnly'.",
            id="user-type",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("territory", "T_PLAN", "member"),
                "user_id": ID["U_ALICE"],
            },
            "NOT_PROVISIONABLE",
            f"Parameter entitlement_id: territory 'Planned Region' ({ID['T_PLAN']}) belongs to model 'FY28 "
            "Planning', whose state is 'Planning'; only territories of the active model are provisioned. "
            "Pick the matching territory of the active model.",
            id="territory-of-planning-model",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("territory", "T_NA", "role:Overlay"),
                "user_id": ID["U_ALICE"],
            },
            "NOT_PROVISIONABLE",
            "Parameter entitlement_id: 'Overlay' is not an active value of RoleInTerritory2 in this org "
            "(active: Sales Rep, Sales Manager). Pick one of those, or activate the value in Setup > "
            "Object Manager > User Territory Association > Role in Territory.",
            id="inactive-territory-role",
        ),
        pytest.param(
            {"action": "update_user_status", "user_id": ID["U_ADMIN"], "is_active": False},
            "NOT_PROVISIONABLE",
            f"Parameter user_id: {ID['U_ADMIN']} is 'ada.admin@tiny.example', the integration user this "
            "connection signs in as; deactivating it would stop every sync and provisioning run of this "
            "org. Deactivate it in Salesforce Setup if that is really meant.",
            id="integration-user-deactivation",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("permission", "PS_REPORTS", "assigned"),
                "user_id": "005" + "0" * 9 + "999",
            },
            "UNKNOWN_USER",
            "Parameter user_id: no user 005000000000999AAA in this org. Check the id against the org the "
            "salesforce_conn_id parameter selects.",
            id="unknown-user",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("permission", "PS_REPORTS", "assigned"),
                "user_id": ID["U_ALICE"][:15] + "ZZZ",
            },
            "INVALID_PARAMETER",
            f"Parameter user_id: '{ID['U_ALICE'][:15]}ZZZ' is not a valid 18-character Salesforce id (its "
            f"last three characters should be '{ID['U_ALICE'][15:]}'); a character was probably mistyped. "
            "Copy the id again.",
            id="bad-checksum",
        ),
        pytest.param(
            {
                "action": "grant",
                "entitlement_id": entitlement("permission", "PS_REPORTS", "assigned"),
                "user_id": ID["U_ALICE"],
                "is_active": True,
            },
            "INVALID_PARAMETER",
            "Parameter is_active: grant does not use it (it is for update_user_status), but it is set to "
            "True. Leave it empty, or choose the action it belongs to.",
            id="parameter-of-another-action",
        ),
        pytest.param(
            {"action": "revoke", "user_id": ID["U_ALICE"]},
            "MISSING_PARAMETER",
            "Parameter entitlement_id: revoke needs it, and it is empty.",
            id="missing-entitlement",
        ),
        pytest.param(
            {"action": "create_account", "account": {**GOOD_ACCOUNT, "profile": "Sales Wizard"}},
            "UNKNOWN_PROFILE",
            "Parameter account.profile: no profile with name 'Sales Wizard' in this org. Give a profile's "
            "id (00e...) or exact name.",
            id="unknown-profile",
        ),
        pytest.param(
            {"action": "create_account", "account": {**GOOD_ACCOUNT, "time_zone": "Mars/Olympus"}},
            "INVALID_PARAMETER",
            "Parameter account.time_zone: 'Mars/Olympus' is not a time zone name; use an IANA name such as "
            "America/New_York.",
            id="bad-time-zone",
        ),
    ],
)
def test_validate_request_rejects_and_records(org, pg, tiny_fixture, conf, code, message):
    run = provision(**conf)

    row = rejected(run, pg)
    assert (row["error_code"], row["error_message"]) == (code, message)
    assert row["action"] == conf["action"]
    assert_salesforce_untouched(org, tiny_fixture)


def test_a_misspelt_parameter_is_rejected_before_anything_changes(org, pg, tiny_fixture):
    run = provision(
        action="grant",
        entitlement_id=entitlement("group", "G_SALES", "member"),
        user_id=ID["U_ODD"],
        dryrun=True,
    )

    assert str(run.state) == "failed"
    assert task_states(run)["preflight"] == "failed"
    row = request_row(pg)
    assert (row["status"], row["error_code"]) == ("rejected", "UNKNOWN_PARAMETER")
    assert row["error_message"] == (
        "Parameter dryrun: the request has unknown parameter(s) 'dryrun'; the parameters are action, "
        "entitlement_id, user_id, is_active, account, dry_run, salesforce_conn_id. Fix the spelling and "
        "request again."
    )
    assert "dryrun" not in row["parameters"]
    assert_salesforce_untouched(org, tiny_fixture)


def test_an_unknown_account_key_is_rejected_without_echoing_its_value(org, pg, capfd, all_logs):
    # Built at run time: a traceback quoting this test's source must not look like a leak.
    secret = "S3cr3t-PW-" + str(991)
    run = provision(action="create_account", account={**GOOD_ACCOUNT, "password": secret})

    row = rejected(run, pg)
    assert row["error_code"] == "INVALID_PARAMETER"
    assert row["error_message"].startswith("Parameter account: unknown key(s) password; the keys are ")
    assert row["parameters"]["account"]["password"] == "***redacted***"
    logged = "".join(capfd.readouterr()) + "\n".join(all_logs)
    assert secret not in logged + str(row)


def test_a_secret_passed_as_a_field_is_rejected_and_never_stored(org, pg):
    account = {**GOOD_ACCOUNT, "fields": {"Password": "hunter2-Secret"}}

    run = provision(action="create_account", account=account)

    row = rejected(run, pg)
    assert row["parameters"]["account"]["fields"] == {"Password": "***redacted***"}
    assert "hunter2" not in row["error_message"]
    assert row["error_message"] == (
        "Parameter account.fields.Password: cannot be set here; passwords and secrets are never passed "
        "through provisioning. The user sets a password from Salesforce's welcome email or a reset by an "
        "admin."
    )
    assert sf_records(org, "User", Username="nina@tiny.example") == []


def test_a_salesforce_failure_on_the_write_is_recorded_as_failed(org, pg):
    org.control.inject_fault("lock", "/sobjects/PermissionSetAssignment", count=None, method="POST")

    run = provision(
        action="grant",
        entitlement_id=entitlement("permission", "PS_REPORTS", "assigned"),
        user_id=ID["U_ALICE"],
    )

    assert str(run.state) == "failed"
    assert task_states(run)["provision"] == "failed"
    row = request_row(pg)
    assert (row["status"], row["error_code"]) == ("failed", "UNABLE_TO_LOCK_ROW")
    assert row["error_message"].startswith(
        "create PermissionSetAssignment: Salesforce could not serve the request"
    )
    assert (
        sf_records(org, "PermissionSetAssignment", AssigneeId="U_ALICE", PermissionSetId="PS_REPORTS") == []
    )
