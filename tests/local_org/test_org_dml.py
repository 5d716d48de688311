"""sObject REST and the provisioning rules (field guide §4, §7.2, §7.3) through simple-salesforce."""

from __future__ import annotations

import time

import pytest
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

NEW_USER = {
    "LastName": "Lovelace",
    "FirstName": "Ann",
    "Username": "Ann.Lovelace@acme.test",
    "Email": "ann@acme.test",
    "Alias": "alove",
    "TimeZoneSidKey": "Europe/London",
    "LocaleSidKey": "en_GB",
    "EmailEncodingKey": "UTF-8",
    "LanguageLocaleKey": "en_US",
}


def _error(call, exception=SalesforceMalformedRequest) -> dict:
    with pytest.raises(exception) as failure:
        call()
    [item] = failure.value.content
    return dict(item)


def _duplicate(assignee: str, permission_set: str) -> str:
    return f"Duplicate PermissionSetAssignment. Assignee: {assignee}; Permission Set: {permission_set}"


def _user(ids, **changes) -> dict:
    return {**NEW_USER, "ProfileId": ids["prof_standard"], **changes}


def test_create_user_fills_what_salesforce_computes(sf, ids):
    result = sf.User.create(_user(ids))

    user = sf.User.get(result["id"])
    assert result == {"id": result["id"], "success": True, "errors": []}
    assert result["id"].startswith("005") and len(result["id"]) == 18
    assert (user["Username"], user["Name"], user["UserType"], user["IsActive"]) == (
        "ann.lovelace@acme.test",
        "Ann Lovelace",
        "Standard",
        True,
    )
    assert user["CreatedById"] == ids["user_int"]
    assert (
        sf.query(f"SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '{result['id']}'")[
            "records"
        ][0]["PermissionSetId"]
        == ids["ps_prof_standard"]
    )
    assert (
        sf.query(f"SELECT IsFrozen FROM UserLogin WHERE UserId = '{result['id']}'")["records"][0]["IsFrozen"]
        is False
    )


def test_required_fields_missing(sf):
    item = _error(lambda: sf.User.create({"LastName": "Only"}))

    missing = [
        "Username",
        "Email",
        "Alias",
        "TimeZoneSidKey",
        "LocaleSidKey",
        "EmailEncodingKey",
        "ProfileId",
        "LanguageLocaleKey",
    ]
    assert item == {
        "message": f"Required fields are missing: [{', '.join(missing)}]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": missing,
    }


@pytest.mark.parametrize(
    ("changes", "code", "message", "fields"),
    [
        (
            {"Alias": "jonathan9"},
            "STRING_TOO_LONG",
            "Alias: data value too large: jonathan9 (max length=8)",
            ["Alias"],
        ),
        (
            {"Email": "not-an-email"},
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: not-an-email",
            ["Email"],
        ),
        (
            {"Username": "ann"},
            "FIELD_INTEGRITY_EXCEPTION",
            "Username must be in the form of an email address (for example, john@acme.com): Username",
            ["Username"],
        ),
        (
            {"TimeZoneSidKey": "Mars/Base"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Time Zone: bad value for restricted picklist field: Mars/Base",
            ["TimeZoneSidKey"],
        ),
        ({"Username": "ADMIN@acme.test"}, "DUPLICATE_USERNAME", None, ["Username"]),
        ({"ProfileId": "abc"}, "MALFORMED_ID", "Profile ID: id value of incorrect type: abc", ["ProfileId"]),
        ({"ProfileId": "GROUP"}, "FIELD_INTEGRITY_EXCEPTION", None, ["ProfileId"]),
        (
            {"ProfileId": "00e000000000000AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            ["ProfileId"],
        ),
        (
            {"Name": "Ann"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: Name. Please check the security settings of this field and "
            "verify that it is read/write for your profile or permission set.",
            ["Name"],
        ),
    ],
)
def test_user_validation(sf, ids, changes, code, message, fields):
    if changes.get("ProfileId") == "GROUP":
        changes = {"ProfileId": ids["grp_sales"]}

    item = _error(lambda: sf.User.create(_user(ids, **changes)))

    assert (item["errorCode"], item["fields"]) == (code, fields)
    if message:
        assert item["message"] == message


def test_unknown_field_in_body(sf, ids):
    item = _error(lambda: sf.User.create(_user(ids, Shoe_Size__c=42)))

    assert item == {
        "message": "No such column 'Shoe_Size__c' on sobject of type User",
        "errorCode": "INVALID_FIELD",
    }


def test_usernames_are_unique_across_orgs(local_org, sf, ids):
    local_org.control.set_switches(other_org_usernames=["ann.lovelace@acme.test"])

    item = _error(lambda: sf.User.create(_user(ids)))

    assert item["errorCode"] == "DUPLICATE_USERNAME"
    assert item["message"].startswith("Duplicate Username.<br>The username already exists in this or another")


def test_licence_seats(sf, ids):
    sf.User.create(_user(ids, ProfileId=ids["prof_platform"]))

    item = _error(
        lambda: sf.User.create(_user(ids, ProfileId=ids["prof_platform"], Username="b@acme.test", Alias="b"))
    )
    assert item == {"message": "License Limit Exceeded", "errorCode": "LICENSE_LIMIT_EXCEEDED", "fields": []}
    moved = _error(lambda: sf.User.update(ids["user_1"], {"ProfileId": ids["prof_platform"]}))
    assert moved["errorCode"] == "LICENSE_LIMIT_EXCEEDED"
    used = sf.query("SELECT UsedLicenses, TotalLicenses FROM UserLicense WHERE LicenseDefinitionKey = 'AUL'")
    assert (used["records"][0]["UsedLicenses"], used["records"][0]["TotalLicenses"]) == (1, 1)


def test_reactivation_checks_seats(local_org, sf, ids):
    local_org.control.set_switches()  # no-op; keeps the org fresh
    for number in range(7, 20):  # fill the Salesforce licence (20 seats; 7 active users)
        sf.User.create(_user(ids, Username=f"fill{number}@acme.test", Alias=f"f{number}"))

    item = _error(lambda: sf.User.update(ids["user_6"], {"IsActive": True}))

    assert item["errorCode"] == "LICENSE_LIMIT_EXCEEDED"
    assert sf.User.update(ids["user_5"], {"IsActive": False}) == 204
    assert sf.User.update(ids["user_6"], {"IsActive": True}) == 204


def test_profile_change_moves_the_profile_assignment(sf, ids):
    sf.User.update(ids["user_1"], {"ProfileId": ids["prof_admin"]})

    query = (
        f"SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '{ids['user_1']}' AND "
        "PermissionSet.IsOwnedByProfile = true"
    )
    assert [r["PermissionSetId"] for r in sf.query(query)["records"]] == [ids["ps_prof_admin"]]


def test_users_cannot_be_deleted(sf, ids):
    with pytest.raises(SalesforceGeneralError) as failure:
        sf.User.delete(ids["user_1"])

    assert failure.value.status == 405
    assert failure.value.content == [
        {
            "message": "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH",
            "errorCode": "METHOD_NOT_ALLOWED",
        }
    ]


def test_get_unknown_and_malformed_ids(sf, ids):
    assert _error(lambda: sf.User.get("005000000000000AAA"), SalesforceResourceNotFound) == {
        "message": "The requested resource does not exist",
        "errorCode": "NOT_FOUND",
    }
    assert _error(lambda: sf.User.get("not-an-id"), SalesforceResourceNotFound) == {
        "message": "Provided external ID field does not exist or is not accessible: not-an-id",
        "errorCode": "NOT_FOUND",
    }


def test_duplicate_permission_set_assignment(sf, ids):
    item = _error(
        lambda: sf.PermissionSetAssignment.create(
            {"AssigneeId": ids["user_1"], "PermissionSetId": ids["ps_sales_ops"]}
        )
    )

    assert item == {
        "message": _duplicate(ids["user_1"], ids["ps_sales_ops"]),
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
    }


def test_profile_owned_permission_sets_cannot_be_assigned_or_removed(sf, ids):
    assigned = _error(
        lambda: sf.PermissionSetAssignment.create(
            {"AssigneeId": ids["user_1"], "PermissionSetId": ids["ps_prof_admin"]}
        )
    )
    owned = sf.query(
        f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{ids['user_1']}' AND "
        "PermissionSet.IsOwnedByProfile = true"
    )["records"][0]["Id"]
    removed = _error(lambda: sf.PermissionSetAssignment.delete(owned))

    message = "You can't assign or unassign this permission set because it's associated with a profile."
    assert assigned == removed == {"message": message, "errorCode": "FIELD_INTEGRITY_EXCEPTION", "fields": []}


def test_permission_set_group_assignment_stores_the_aggregate_set(sf, ids):
    created = sf.PermissionSetAssignment.create(
        {"AssigneeId": ids["user_3"], "PermissionSetGroupId": ids["psg_sales"]}
    )

    stored = sf.PermissionSetAssignment.get(created["id"])
    assert (stored["PermissionSetId"], stored["PermissionSetGroupId"]) == (
        ids["ps_psg_sales"],
        ids["psg_sales"],
    )
    assert sf.PermissionSetAssignment.delete(created["id"]) == 204


def test_permission_set_licence_must_match_the_users(sf, ids):
    platform_user = sf.User.create(_user(ids, ProfileId=ids["prof_platform"]))["id"]

    item = _error(
        lambda: sf.PermissionSetAssignment.create(
            {"AssigneeId": platform_user, "PermissionSetId": ids["ps_reports"]}
        )
    )

    assert item["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert item["message"].startswith("Can't assign permission set Report_Builder to user Ann Lovelace.")


def test_assignment_expiration_date_is_the_only_updatable_field(sf, ids):
    assert (
        sf.PermissionSetAssignment.update(ids["psa_1_ops"], {"ExpirationDate": "2030-01-01T00:00:00Z"}) == 204
    )
    assert (
        sf.PermissionSetAssignment.get(ids["psa_1_ops"])["ExpirationDate"] == "2030-01-01T00:00:00.000+0000"
    )

    item = _error(lambda: sf.PermissionSetAssignment.update(ids["psa_1_ops"], {"AssigneeId": ids["user_2"]}))
    assert (item["errorCode"], item["fields"]) == ("INVALID_FIELD_FOR_INSERT_UPDATE", ["AssigneeId"])


def test_duplicate_group_member_returns_the_existing_id(sf, ids):
    result = sf.GroupMember.create({"GroupId": ids["grp_sales"], "UserOrGroupId": ids["user_1"]})

    assert result == {"id": ids["gm_1"], "success": True, "errors": []}
    assert sf.query("SELECT COUNT() FROM GroupMember")["totalSize"] == 2


def test_group_members_only_for_regular_groups_and_queues(sf, ids):
    queue = sf.GroupMember.create({"GroupId": ids["grp_queue"], "UserOrGroupId": ids["user_2"]})
    role = _error(
        lambda: sf.GroupMember.create({"GroupId": ids["grp_role_ceo_Role"], "UserOrGroupId": ids["user_2"]})
    )
    update = _error(
        lambda: sf.GroupMember.update(queue["id"], {"GroupId": ids["grp_sales"]}), SalesforceGeneralError
    )

    assert queue["success"] is True
    assert role == {
        "message": "You can't add members to a group of type Role.",
        "errorCode": "FIELD_INTEGRITY_EXCEPTION",
        "fields": ["GroupId"],
    }
    assert update["errorCode"] == "METHOD_NOT_ALLOWED"
    assert sf.GroupMember.delete(queue["id"]) == 204
    assert _error(lambda: sf.GroupMember.delete(queue["id"]), SalesforceResourceNotFound) == {
        "message": "entity is deleted",
        "errorCode": "ENTITY_IS_DELETED",
        "fields": [],
    }


def test_territory_associations(sf, ids):
    duplicate = _error(
        lambda: sf.UserTerritory2Association.create({"UserId": ids["user_1"], "Territory2Id": ids["t2_uk"]})
    )
    bad_role = _error(
        lambda: sf.UserTerritory2Association.create(
            {"UserId": ids["user_2"], "Territory2Id": ids["t2_uk"], "RoleInTerritory2": "Retired"}
        )
    )
    moved = _error(
        lambda: sf.UserTerritory2Association.update(ids["ut2a_1"], {"Territory2Id": ids["t2_emea"]})
    )

    assert duplicate == {
        "message": f"duplicate value found: <unknown> duplicates value on record with id: {ids['ut2a_1']}",
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
    }
    assert bad_role["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert moved["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert sf.UserTerritory2Association.update(ids["ut2a_1"], {"RoleInTerritory2": "Owner"}) == 204
    assert sf.UserTerritory2Association.get(ids["ut2a_1"])["RoleInTerritory2"] == "Owner"


def test_read_only_setup_objects(sf, ids):
    created = _error(lambda: sf.UserLicense.create({"Name": "x"}), SalesforceGeneralError)
    updated = _error(
        lambda: sf.ConnectedApplication.update(ids["app"], {"Name": "x"}), SalesforceGeneralError
    )

    assert created == {
        "message": "HTTP Method 'POST' not allowed. Allowed are GET,HEAD",
        "errorCode": "METHOD_NOT_ALLOWED",
    }
    assert updated == {
        "message": "HTTP Method 'PATCH' not allowed. Allowed are HEAD,GET",
        "errorCode": "METHOD_NOT_ALLOWED",
    }


def test_validation_rules(local_org, sf, ids):
    rule = {
        "object": "User",
        "field": "FederationIdentifier",
        "on": "create",
        "message": "Federation ID is required",
    }
    local_org.control.set_switches(validation_rules=[rule])

    item = _error(lambda: sf.User.create(_user(ids)))

    assert item == {
        "message": "Federation ID is required",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": ["FederationIdentifier"],
    }
    assert sf.User.create(_user(ids, FederationIdentifier="ann"))["success"] is True


def test_freeze_a_user(sf, ids):
    login_id = sf.query(f"SELECT Id FROM UserLogin WHERE UserId = '{ids['user_1']}'")["records"][0]["Id"]

    assert sf.UserLogin.update(login_id, {"IsFrozen": True}) == 204
    assert sf.UserLogin.get(login_id)["IsFrozen"] is True


def test_describe(sf, ids):
    association = sf.UserTerritory2Association.describe()
    user = sf.User.describe()

    role_field = next(f for f in association["fields"] if f["name"] == "RoleInTerritory2")
    assert association["keyPrefix"] == "0R0"
    assert [(v["value"], v["active"]) for v in role_field["picklistValues"]] == [
        ("Sales Rep", True),
        ("Owner", True),
        ("Retired", False),
    ]
    fields = {f["name"]: f for f in user["fields"]}
    assert (fields["Username"]["createable"], fields["Username"]["nillable"]) == (True, False)
    assert (fields["Name"]["createable"], fields["Name"]["updateable"]) == (False, False)
    assert (fields["ProfileId"]["referenceTo"], fields["ProfileId"]["relationshipName"]) == (
        ["Profile"],
        "Profile",
    )
    assert user["deletable"] is False


def test_collections_report_per_item_with_http_200(sf, ids):
    body = {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "PermissionSetAssignment"},
                "AssigneeId": ids["user_4"],
                "PermissionSetId": ids["ps_sales_ops"],
            },
            {
                "attributes": {"type": "PermissionSetAssignment"},
                "AssigneeId": ids["user_1"],
                "PermissionSetId": ids["ps_sales_ops"],
            },
        ],
    }

    results = sf.restful("composite/sobjects", method="POST", json=body)

    assert results[0]["success"] is True and results[0]["id"].startswith("0Pa")
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "DUPLICATE_VALUE",
                "fields": [],
                "message": _duplicate(ids["user_1"], ids["ps_sales_ops"]),
            }
        ],
    }
    deleted = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{results[0]['id']},{ids['psa_1_ops']}", "allOrNone": "false"},
    )
    assert deleted == [
        {"id": results[0]["id"], "success": True, "errors": []},
        {"id": ids["psa_1_ops"], "success": True, "errors": []},
    ]


def test_collections_all_or_none_rolls_back(sf, ids):
    body = {
        "allOrNone": True,
        "records": [
            {
                "attributes": {"type": "GroupMember"},
                "GroupId": ids["grp_queue"],
                "UserOrGroupId": ids["user_4"],
            },
            {
                "attributes": {"type": "GroupMember"},
                "GroupId": ids["grp_org"],
                "UserOrGroupId": ids["user_4"],
            },
        ],
    }

    results = sf.restful("composite/sobjects", method="POST", json=body)

    assert [r["success"] for r in results] == [False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert sf.query("SELECT COUNT() FROM GroupMember")["totalSize"] == 2


def test_collections_limits(sf, ids):
    too_many = {"records": [{"attributes": {"type": "GroupMember"}}] * 201}
    mixed = {
        "records": [
            {"attributes": {"type": "GroupMember"}},
            {"attributes": {"type": "PermissionSetAssignment"}},
        ]
    }

    assert (
        _error(lambda: sf.restful("composite/sobjects", method="POST", json=too_many))["errorCode"]
        == "EXCEEDED_ID_LIMIT"
    )
    assert (
        _error(lambda: sf.restful("composite/sobjects", method="POST", json=mixed))["errorCode"]
        == "INVALID_BATCH_REQUEST"
    )


def test_collections_update(sf, ids):
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "User"}, "id": ids["user_1"], "Title": "Lead"},
            {"attributes": {"type": "User"}, "id": ids["user_2"], "Alias": "much-too-long"},
        ],
    }

    results = sf.restful("composite/sobjects", method="PATCH", json=body)

    assert results[0] == {"id": ids["user_1"], "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert sf.User.get(ids["user_1"])["Title"] == "Lead"


def test_profiles_and_owned_permission_sets_are_not_deletable(admin_sf, ids):
    profile = _error(lambda: admin_sf.Profile.delete(ids["prof_standard"]), SalesforceGeneralError)
    owned = _error(lambda: admin_sf.PermissionSet.delete(ids["ps_prof_standard"]))

    assert profile["errorCode"] == "METHOD_NOT_ALLOWED"
    assert owned == {
        "message": "You can't delete this permission set because it's owned by a profile.",
        "errorCode": "FIELD_INTEGRITY_EXCEPTION",
        "fields": [],
    }
    assert admin_sf.PermissionSet.delete(ids["ps_sales_ops"]) == 204


def test_a_failed_update_changes_nothing(local_org, sf, ids):
    rule = {
        "object": "User",
        "field": "FederationIdentifier",
        "on": "update",
        "message": "Federation ID needed",
    }
    local_org.control.set_switches(validation_rules=[rule])

    item = _error(lambda: sf.User.update(ids["user_1"], {"ProfileId": ids["prof_admin"]}))

    query = (
        f"SELECT PermissionSet.ProfileId FROM PermissionSetAssignment WHERE AssigneeId = '{ids['user_1']}' "
        "AND PermissionSet.IsOwnedByProfile = true"
    )
    assert item["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert sf.User.get(ids["user_1"])["ProfileId"] == ids["prof_standard"]
    assert [r["PermissionSet"]["ProfileId"] for r in sf.query(query)["records"]] == [ids["prof_standard"]]


def test_deleting_a_permission_set_removes_its_assignments(admin_sf, ids):
    admin_sf.PermissionSet.delete(ids["ps_sales_ops"])

    assert (
        admin_sf.query(f"SELECT COUNT() FROM PermissionSetAssignment WHERE Id = '{ids['psa_1_ops']}'")[
            "totalSize"
        ]
        == 0
    )
    assert admin_sf.query("SELECT COUNT() FROM PermissionSetGroupComponent")["totalSize"] == 1


def test_permission_set_group_recalculates_after_a_component_change(local_org, admin_sf, ids):
    local_org.control.set_switches(psg_recalc_seconds=0.5)

    admin_sf.PermissionSetGroupComponent.delete(ids["psgc_2"])
    during = admin_sf.PermissionSetGroup.get(ids["psg_sales"])["Status"]
    time.sleep(0.6)
    after = admin_sf.query(f"SELECT Status FROM PermissionSetGroup WHERE Id = '{ids['psg_sales']}'")[
        "records"
    ]

    assert (during, after[0]["Status"]) == ("Updating", "Updated")


def test_new_groups_and_roles_get_what_salesforce_creates(admin_sf):
    group = admin_sf.PermissionSetGroup.create({"DeveloperName": "Ops_Bundle", "MasterLabel": "Ops Bundle"})
    role = admin_sf.UserRole.create({"Name": "Support Lead", "DeveloperName": "Support_Lead"})

    aggregate = admin_sf.query(
        f"SELECT Type, Label FROM PermissionSet WHERE PermissionSetGroupId = '{group['id']}'"
    )
    role_groups = admin_sf.query(f"SELECT Type FROM Group WHERE RelatedId = '{role['id']}' ORDER BY Type")
    assert [(r["Type"], r["Label"]) for r in aggregate["records"]] == [("Group", "Ops Bundle")]
    assert [r["Type"] for r in role_groups["records"]] == [
        "Role",
        "RoleAndSubordinates",
        "RoleAndSubordinatesInternal",
    ]
