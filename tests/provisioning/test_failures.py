"""What a person reads when the org, not the request, stands in the way (SPEC section 7); the DAG's shape."""

from __future__ import annotations

import copy

from tests.fixtures.tiny_org import ID
from tests.provisioning.conftest import entitlement, provision, request_row, sf_records, task_states


def failed_row(run, pg, failed_task: str) -> dict:
    assert str(run.state) == "failed"
    assert task_states(run)[failed_task] == "failed"
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["changes"]) == ("failed", None, None)
    return row


def test_an_integration_user_without_manage_users_is_told_which_permissions_to_add(org, pg, tiny_fixture):
    weak = copy.deepcopy(tiny_fixture)
    for permission_set in weak["records"]["PermissionSet"]:
        if permission_set["Id"] == ID["PS_P_ADMIN"]:
            for name in (
                "PermissionsModifyAllData",
                "PermissionsManageUsers",
                "PermissionsManageInternalUsers",
            ):
                permission_set[name] = False
    org.control.load_fixture(weak)

    run = provision(
        action="grant", entitlement_id=entitlement("group", "G_SALES", "member"), user_id=ID["U_ODD"]
    )

    # The preflight stops the request before any write, naming the permission and where to add it.
    row = failed_row(run, pg, "preflight")
    assert row["error_code"] == "MISSING_PERMISSION"
    assert row["error_message"] == (
        "Cannot grant group in Salesforce org Tiny Co:\n- The integration user 'ada.admin@tiny.example' "
        "lacks the system permission Manage Users (PermissionsManageUsers) or Manage Internal Users "
        "(PermissionsManageInternalUsers), needed to add users to public groups and remove them. Add it to a "
        "permission set assigned to the integration user: Setup > Permission Sets > (the set) > System "
        "Permissions > Edit."
    )
    assert sf_records(org, "GroupMember", GroupId="G_SALES", UserOrGroupId="U_ODD") == []


def test_territories_switched_off_say_so(org, pg):
    org.control.set_switches(territory_management=False)

    run = provision(
        action="grant", entitlement_id=entitlement("territory", "T_NA", "member"), user_id=ID["U_ALICE"]
    )

    row = failed_row(run, pg, "validate_request")
    assert row["error_code"] == "INVALID_TYPE"
    assert row["error_message"].startswith(
        "reading the territory: Enterprise Territory Management 2.0 is not enabled in this org, so the "
        "Territory2 objects do not exist. Turn it on in Setup > Territory Settings > Enable Enterprise "
        "Territory Management"
    )


def test_an_org_without_api_access_names_the_editions(org, pg):
    org.control.set_switches(api_enabled=False)

    run = provision(action="update_user_status", user_id=ID["U_ODD"], is_active=False)

    row = failed_row(run, pg, "preflight")
    assert row["error_code"] == "API_DISABLED_FOR_ORG"
    assert "Only Enterprise, Unlimited, Developer and Performance editions" in row["error_message"]
    assert sf_records(org, "User", Id="U_ODD")[0]["IsActive"] is True


def test_required_field_missing_names_the_account_keys():
    """The local org cannot make a complete create miss a required field, so the message is checked alone."""
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    from salesforce_access.provisioning import _explained
    from salesforce_access.provisioning_base import Operation, Request
    from salesforce_access.salesforce_errors import translate

    raw = SalesforceMalformedRequest(
        "https://org.example/services/data/v62.0/sobjects/User/",
        400,
        "User",
        [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [ContactId, Alias]",
          "fields": ["ContactId", "Alias"]}],
    )  # fmt: skip
    try:
        raise translate(raw, context="create User") from raw
    except Exception as refused:
        explained = _explained(refused, Request("r1", "create_account"), {}, Operation("create", "User"))

    assert explained.error_code == "REQUIRED_FIELD_MISSING"
    assert explained.message == (
        "Parameter account.fields.ContactId, account.alias: Salesforce requires it for this user (Salesforce "
        'answered "Required fields are missing: [ContactId, Alias]"). Add it and request again.'
    )


def test_dag_shape_and_parameter_schema():
    from tests.sync.conftest import parse_dag

    dag = parse_dag("salesforce_provisioning")

    assert dag.schedule is None
    assert dag.max_active_runs == 1
    assert dag.task_ids == ["validate_request", "preflight", "provision", "refresh_warehouse", "finalize"]
    assert dag.get_task("validate_request").upstream_task_ids == {"preflight"}
    assert {task.pool for task in dag.tasks} == {"salesforce_api", "default_pool"}
    assert dag.get_task("finalize").trigger_rule == "all_done"
    schema = {name: param.schema for name, param in dag.params.items()}
    assert schema["action"]["enum"] == [
        "grant",
        "revoke",
        "create_account",
        "update_user_status",
        "delete_account",
    ]
    assert schema["salesforce_conn_id"]["enum"] == ["salesforce_default"]
    assert schema["user_id"]["pattern"] == "^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$"
    # Unknown account keys are rejected (and recorded) by the first task, not echoed by the schema.
    assert "additionalProperties" not in schema["account"]
    assert all(param.schema.get("title") and param.description for param in dag.params.values())
