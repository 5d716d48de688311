"""create_account and update_user_status through the provisioning DAG, on Tiny Co."""

from __future__ import annotations

import copy

import pytest

from tests.fixtures.tiny_org import ID
from tests.provisioning.conftest import (
    SCHEMA,
    derived,
    direct,
    history_changes,
    named,
    provision,
    request_row,
    sf_records,
    task_states,
    user_grants,
    user_resource,
)

pytestmark = pytest.mark.usefixtures("org")

NEW_ACCOUNT = {
    "email": "Nina.New@Tiny.Example",
    "first_name": "Nina",
    "last_name": "New",
    "alias": "nnew",
    "profile": "Standard User",
    "time_zone": "Europe/Berlin",
    "fields": {"FederationIdentifier": "nina-fed-1", "Department": "Support", "Title": None},
}


def writes(org) -> list[tuple[str, str]]:
    """The writes the local org received (method, path), sign-ins and control calls left out."""
    return [
        (entry["method"], entry["path"])
        for entry in org.control.journal()
        if entry["method"] in ("POST", "PATCH", "DELETE") and "/sobjects/" in entry["path"]
    ]


def final_state(run) -> str:
    return str(run.state)


# -- create_account ----------------------------------------------------------------------------------------


def test_create_account_creates_the_user_with_defaults_and_passed_fields(org, pg):
    run = provision(action="create_account", account=NEW_ACCOUNT)

    assert final_state(run) == "success", task_states(run)
    (nina,) = sf_records(org, "User", Username="nina.new@tiny.example")
    fields = (
        "Email", "FirstName", "LastName", "Alias", "TimeZoneSidKey", "LocaleSidKey", "LanguageLocaleKey",
        "EmailEncodingKey", "ProfileId", "FederationIdentifier", "Department", "Title", "IsActive",
        "UserType",
    )  # fmt: skip
    assert {key: nina[key] for key in fields} == {
        "Email": "Nina.New@Tiny.Example", "FirstName": "Nina", "LastName": "New", "Alias": "nnew",
        "TimeZoneSidKey": "Europe/Berlin", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
        "EmailEncodingKey": "UTF-8", "ProfileId": ID["P_STD"], "FederationIdentifier": "nina-fed-1",
        "Department": "Support", "Title": None, "IsActive": True, "UserType": "Standard",
    }  # fmt: skip
    # One insert, nothing else: no password reset, no welcome email forced.
    assert writes(org) == [("POST", "/services/data/v62.0/sobjects/User/")]

    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"], row["user_id"]) == (
        "succeeded", "created", nina["Id"], nina["Id"],
    )  # fmt: skip
    assert row["changes"] == [
        {
            "operation": "create",
            "sobject": "User",
            "values": {
                "Username": "nina.new@tiny.example", "Email": "Nina.New@Tiny.Example", "FirstName": "Nina",
                "LastName": "New", "Alias": "nnew", "TimeZoneSidKey": "Europe/Berlin",
                "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8",
                "ProfileId": "P_STD",
                "FederationIdentifier": "nina-fed-1", "Department": "Support",
            },
        }
    ]  # fmt: skip
    assert row["parameters"]["account"] == NEW_ACCOUNT

    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT display_name, login, email, status, user_type, profile_id FROM {SCHEMA}.resources "
            "WHERE resource_id = %s",
            (nina["Id"],),
        )
        assert cursor.fetchall() == [
            ("Nina New", "nina.new@tiny.example", "Nina.New@Tiny.Example", "enabled", "Standard", ID["P_STD"])
        ]
        cursor.execute(
            f"SELECT entitlement_id, is_direct, sources FROM {SCHEMA}.grants WHERE principal_id = %s",
            (nina["Id"],),
        )
        assert {(named(e), d, named(s)) for e, d, s in cursor.fetchall()} == {
            ("profile:P_STD:assigned", True, frozenset()),
            ("group:G_ORG:member", False, frozenset({"profile:P_STD:assigned"})),
        }
    assert history_changes(pg, run.run_id)["opened"] == {
        ("profile:P_STD:assigned", nina["Id"]),
        ("group:G_ORG:member", nina["Id"]),
    }


def test_create_account_again_finds_it_and_touches_nothing(org, pg):
    existing = {**NEW_ACCOUNT, "email": "alice@tiny.example", "profile": ID["P_ADMIN"], "first_name": "Other"}

    run = provision(action="create_account", account=existing)

    assert final_state(run) == "success", task_states(run)
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"], row["changes"]) == (
        "no_change", "already_exists", "U_ALICE", [],
    )  # fmt: skip
    assert writes(org) == []
    (alice,) = sf_records(org, "User", Id="U_ALICE")
    assert (alice["FirstName"], alice["ProfileId"]) == ("Alice", ID["P_STD"])


def test_create_account_of_an_inactive_username_reactivates_only(org, pg):
    carol = {
        **NEW_ACCOUNT,
        "email": "carol@tiny.example",
        "first_name": "Caroline",
        "profile": "System Administrator",
    }
    before = user_grants(pg, "U_CAROL")

    run = provision(action="create_account", account=carol)

    assert final_state(run) == "success", task_states(run)
    (user,) = sf_records(org, "User", Id="U_CAROL")
    assert (user["IsActive"], user["FirstName"], user["ProfileId"], user["FederationIdentifier"]) == (
        True, "Carol", ID["P_MIN"], None,
    )  # fmt: skip
    assert writes(org) == [("PATCH", f"/services/data/v62.0/sobjects/User/{ID['U_CAROL']}")]
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["user_id"], row["changes"]) == (
        "succeeded",
        "reactivated",
        "U_CAROL",
        [{"operation": "update", "sobject": "User", "record_id": "U_CAROL", "values": {"IsActive": True},
          "before": {"IsActive": False}}],
    )  # fmt: skip
    assert user_resource(pg, "U_CAROL")[2] == "enabled"
    assert user_grants(pg, "U_CAROL") == before


def test_create_account_dry_run_creates_nothing(org, pg):
    run = provision(action="create_account", account=NEW_ACCOUNT, dry_run=True)

    assert final_state(run) == "success", task_states(run)
    assert sf_records(org, "User", Username="nina.new@tiny.example") == []
    assert writes(org) == []
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"]) == ("dry_run", "would_create", None)
    assert row["changes"][0]["values"]["Username"] == "nina.new@tiny.example"


def test_a_username_taken_in_another_org_fails_naming_the_username(org, pg):
    org.control.set_switches(other_org_usernames=["nina.new@tiny.example"])

    run = provision(action="create_account", account=NEW_ACCOUNT)

    assert final_state(run) == "failed"
    assert task_states(run)["provision"] == "failed"
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["error_code"]) == ("failed", None, "DUPLICATE_USERNAME")
    assert row["error_message"] == (
        "Parameter account.username: 'nina.new@tiny.example' is already taken (Salesforce answered "
        '"Duplicate '
        "Username. The username already exists in this or another Salesforce organization. Usernames must "
        "be unique across all Salesforce organizations. To resolve, use a different username (it doesn't "
        "need to match the user's email address).\"). Usernames are unique across all Salesforce orgs, "
        "sandboxes and production included. Choose another account.username (it need not be the email "
        "address)."
    )
    assert sf_records(org, "User", Username="nina.new@tiny.example") == []


def test_a_validation_rule_fails_naming_the_field_to_pass_through(org, pg):
    org.control.set_switches(
        validation_rules=[
            {
                "object": "User",
                "field": "EmployeeNumber",
                "on": "create",
                "message": "Employee number is required.",
            }
        ]
    )

    run = provision(action="create_account", account=NEW_ACCOUNT)

    assert final_state(run) == "failed"
    row = request_row(pg)
    assert (row["status"], row["error_code"]) == ("failed", "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert row["error_message"] == (
        "Parameter account.fields.EmployeeNumber: a validation rule of the org refused the change "
        "(Salesforce "
        'answered "Employee number is required."). Set account.fields.EmployeeNumber and request again.'
    )

    with pg.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMA}.provisioning_requests")
    fixed = copy.deepcopy(NEW_ACCOUNT)
    fixed["fields"]["EmployeeNumber"] = "E-1001"
    assert final_state(provision(action="create_account", account=fixed)) == "success"
    (nina,) = sf_records(org, "User", Username="nina.new@tiny.example")
    assert nina["EmployeeNumber"] == "E-1001"


def test_no_free_license_fails_creation_and_reactivation_clearly(org, pg, tiny_fixture):
    full = copy.deepcopy(tiny_fixture)
    for license_record in full["records"]["UserLicense"]:
        if license_record["Name"] == "Salesforce":
            license_record["TotalLicenses"] = 7  # every seat taken by the seven active Salesforce users
    org.control.load_fixture(full)

    run = provision(action="create_account", account=NEW_ACCOUNT)

    assert final_state(run) == "failed"
    row = request_row(pg)
    assert (row["status"], row["error_code"]) == ("failed", "LICENSE_LIMIT_EXCEEDED")
    assert row["error_message"] == (
        "No free license seat for profile 'Standard User' (license 'Salesforce') (Salesforce answered "
        '"License '
        'Limit Exceeded"). Free a seat by deactivating a user of that license, buy more seats, or choose a '
        "profile of another license."
    )

    with pg.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMA}.provisioning_requests")
    run = provision(action="update_user_status", user_id=ID["U_CAROL"], is_active=True)
    assert final_state(run) == "failed"
    assert request_row(pg)["error_code"] == "LICENSE_LIMIT_EXCEEDED"
    assert sf_records(org, "User", Id="U_CAROL")[0]["IsActive"] is False


# -- update_user_status ------------------------------------------------------------------------------------


def test_deactivate_then_repeat(org, pg):
    before = user_grants(pg, "U_ODD")

    run = provision(action="update_user_status", user_id=ID["U_ODD"], is_active=False)

    assert final_state(run) == "success", task_states(run)
    (oscar,) = sf_records(org, "User", Id="U_ODD")
    assert oscar["IsActive"] is False
    assert writes(org) == [("PATCH", f"/services/data/v62.0/sobjects/User/{ID['U_ODD']}")]
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"], row["changes"]) == (
        "succeeded",
        "deactivated",
        "U_ODD",
        [{"operation": "update", "sobject": "User", "record_id": "U_ODD", "values": {"IsActive": False},
          "before": {"IsActive": True}}],
    )  # fmt: skip
    # Deactivated users are synced (sync_deactivated_users is on by default): the user stays, disabled.
    assert user_resource(pg, "U_ODD") == (
        "Oscar Odd",
        "oscar@tiny.example",
        "disabled",
        "Standard",
        "P_STD",
        None,
    )
    assert user_grants(pg, "U_ODD") == before

    with pg.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMA}.provisioning_requests")
    assert (
        final_state(provision(action="update_user_status", user_id=ID["U_ODD"], is_active=False)) == "success"
    )
    assert (request_row(pg)["status"], request_row(pg)["outcome"]) == ("no_change", "already_inactive")


def test_activate_an_inactive_user(org, pg):
    run = provision(action="update_user_status", user_id=ID["U_CAROL"], is_active=True)

    assert final_state(run) == "success", task_states(run)
    assert sf_records(org, "User", Id="U_CAROL")[0]["IsActive"] is True
    assert (request_row(pg)["status"], request_row(pg)["outcome"]) == ("succeeded", "activated")
    assert user_resource(pg, "U_CAROL")[2] == "enabled"
    assert direct("profile:P_MIN:assigned", "U_CAROL") in user_grants(pg, "U_CAROL")
    assert derived("group:G_ORG:member", "profile:P_MIN:assigned") in user_grants(pg, "U_CAROL")
