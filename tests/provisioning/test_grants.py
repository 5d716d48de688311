"""Grant and revoke through the provisioning DAG, for every entitlement kind, on Tiny Co.

Each test checks three things: what Salesforce holds afterwards, the request's provisioning_requests row,
and the warehouse rows of the touched user (grants, grant_history), against the state the session's sync
left before the request.
"""

from __future__ import annotations

import pytest

from tests.fixtures.tiny_org import ID
from tests.provisioning.conftest import (
    SCHEMA,
    derived,
    direct,
    entitlement,
    history_changes,
    provision,
    request_row,
    sf_records,
    task_states,
    user_grants,
    user_resource,
)

pytestmark = pytest.mark.usefixtures("org")

SALES = entitlement("group", "G_SALES", "member")
ENG = entitlement("group", "G_ENG", "member")
REPORTS = entitlement("permission", "PS_REPORTS", "assigned")
SALES_PS = entitlement("permission", "PS_SALES", "assigned")
KNOWLEDGE = entitlement("permission", "PS_KNOWLEDGE", "assigned")
SUPPORT = entitlement("permission_set_group", "PSG_SUPPORT", "member")
WEST = entitlement("territory", "T_WEST", "member")
NA = entitlement("territory", "T_NA", "member")


def n(value: str) -> str:
    """An entitlement id with fixture names, as the read-back helpers give them."""
    from tests.provisioning.conftest import named

    return named(value)


def succeeded(run) -> None:
    assert str(run.state) == "success", task_states(run)
    assert task_states(run) == {
        "preflight": "success",
        "validate_request": "success",
        "provision": "success",
        "refresh_warehouse": "success",
        "finalize": "success",
    }


# -- group membership --------------------------------------------------------------------------------------


def test_group_grant_adds_the_member_and_the_nested_group_it_brings(org, pg):
    before = user_grants(pg, "U_ODD")

    run = provision(action="grant", entitlement_id=SALES, user_id=ID["U_ODD"])

    succeeded(run)
    (member,) = sf_records(org, "GroupMember", GroupId="G_SALES", UserOrGroupId="U_ODD")
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["error_code"], row["error_message"]) == (
        "succeeded", "granted", None, None,
    )  # fmt: skip
    assert row["salesforce_record_id"] == member["Id"]
    assert row["changes"] == [
        {
            "operation": "create",
            "sobject": "GroupMember",
            "values": {"GroupId": "G_SALES", "UserOrGroupId": "U_ODD"},
        }
    ]
    assert (row["user_id"], row["entitlement_id"], row["dry_run"], row["warehouse_refreshed"]) == (
        "U_ODD", "group:G_SALES:member", False, True,
    )  # fmt: skip
    # Sales Team holds Engineering and Engineering holds Sales Team: a cycle, each the other's source.
    assert user_grants(pg, "U_ODD") == before | {
        direct("group:G_SALES:member", member["Id"], "group:G_ENG:member"),
        derived("group:G_ENG:member", "group:G_SALES:member"),
    }
    assert history_changes(pg, run.run_id) == {
        "opened": {("group:G_SALES:member", "U_ODD"), ("group:G_ENG:member", "U_ODD")},
        "closed": set(),
    }


def test_group_grant_repeated_is_already_granted_and_changes_nothing(org, pg):
    succeeded(provision(action="grant", entitlement_id=SALES, user_id=ID["U_ALICE"]))

    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"], row["changes"]) == (
        "no_change", "already_granted", "GM_SALES_ALICE", [],
    )  # fmt: skip
    assert len(sf_records(org, "GroupMember")) == 6


def test_group_revoke_deletes_the_member_and_keeps_what_the_role_still_gives(org, pg):
    before = user_grants(pg, "U_ALICE")

    run = provision(action="revoke", entitlement_id=SALES, user_id=ID["U_ALICE"])

    succeeded(run)
    assert sf_records(org, "GroupMember", GroupId="G_SALES", UserOrGroupId="U_ALICE") == []
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"]) == (
        "succeeded",
        "revoked",
        "GM_SALES_ALICE",
    )
    assert row["changes"] == [
        {
            "operation": "delete",
            "sobject": "GroupMember",
            "record_id": "GM_SALES_ALICE",
            "before": {"GroupId": "G_SALES", "UserOrGroupId": "U_ALICE"},
        }
    ]
    # Alice's role puts her in VP Sales (role and internal subordinates), a member of Sales Team: she keeps
    # Sales Team, now only through that group and through Engineering.
    assert user_grants(pg, "U_ALICE") == (
        before
        - {direct("group:G_SALES:member", "GM_SALES_ALICE", "group:G_VP_RSI:member", "group:G_ENG:member")}
    ) | {derived("group:G_SALES:member", "group:G_VP_RSI:member", "group:G_ENG:member")}
    assert history_changes(pg, run.run_id) == {"opened": set(), "closed": set()}


def test_group_revoke_repeated_is_already_revoked(org, pg):
    succeeded(provision(action="revoke", entitlement_id=ENG, user_id=ID["U_ALICE"]))

    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"], row["changes"]) == (
        "no_change", "already_revoked", None, [],
    )  # fmt: skip


def test_queue_membership_can_be_granted(org, pg):
    succeeded(
        provision(
            action="grant", entitlement_id=entitlement("group", "G_QUEUE", "member"), user_id=ID["U_DAN"]
        )
    )

    (member,) = sf_records(org, "GroupMember", GroupId="G_QUEUE", UserOrGroupId="U_DAN")
    assert (request_row(pg)["outcome"], request_row(pg)["salesforce_record_id"]) == ("granted", member["Id"])
    assert direct("group:G_QUEUE:member", member["Id"]) in user_grants(pg, "U_DAN")


# -- roles -------------------------------------------------------------------------------------------------


def test_role_dry_run_reports_the_change_and_changes_nothing(org, pg):
    before = user_grants(pg, "U_ODD")

    rep = entitlement("role", "R_REP", "assigned")
    succeeded(provision(action="grant", entitlement_id=rep, user_id=ID["U_ODD"], dry_run=True))

    (oscar,) = sf_records(org, "User", Id="U_ODD")
    assert oscar["UserRoleId"] is None
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["dry_run"], row["warehouse_refreshed"]) == (
        "dry_run", "would_grant", True, False,
    )  # fmt: skip
    assert row["changes"] == [
        {"operation": "update", "sobject": "User", "record_id": "U_ODD", "values": {"UserRoleId": "R_REP"},
         "before": {"UserRoleId": None}}
    ]  # fmt: skip
    assert user_grants(pg, "U_ODD") == before


def test_role_grant_sets_the_role_and_its_groups_follow(org, pg):
    before = user_grants(pg, "U_ODD")

    run = provision(
        action="grant", entitlement_id=entitlement("role", "R_REP", "assigned"), user_id=ID["U_ODD"]
    )

    succeeded(run)
    (oscar,) = sf_records(org, "User", Id="U_ODD")
    assert oscar["UserRoleId"] == ID["R_REP"]
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"]) == ("succeeded", "granted", "U_ODD")
    rep = "role:R_REP:assigned"
    assert user_grants(pg, "U_ODD") == before | {
        direct(rep, "U_ODD"),
        derived("group:G_CEO_RS:member", rep),
        derived("group:G_VP_RSI:member", rep),
        derived("group:G_REP_R:member", rep),
        # VP Sales (role and internal subordinates) is a member of Sales Team, which nests with Engineering.
        derived("group:G_SALES:member", "group:G_VP_RSI:member", "group:G_ENG:member"),
        derived("group:G_ENG:member", "group:G_SALES:member"),
    }
    assert user_resource(pg, "U_ODD")[5] == "R_REP"


def test_role_revoke_clears_the_role(org, pg):
    before = user_grants(pg, "U_ALICE")

    succeeded(
        provision(
            action="revoke", entitlement_id=entitlement("role", "R_VP", "assigned"), user_id=ID["U_ALICE"]
        )
    )

    (alice,) = sf_records(org, "User", Id="U_ALICE")
    assert alice["UserRoleId"] is None
    row = request_row(pg)
    assert (row["outcome"], row["changes"]) == (
        "revoked",
        [{"operation": "update", "sobject": "User", "record_id": "U_ALICE", "values": {"UserRoleId": None},
          "before": {"UserRoleId": "R_VP"}}],
    )  # fmt: skip
    vp = "role:R_VP:assigned"
    gone = {
        direct(vp, "U_ALICE"),
        derived("group:G_CEO_RS:member", vp),
        derived("group:G_VP_R:member", vp),
        derived("group:G_VP_RSI:member", vp),
        direct("group:G_SALES:member", "GM_SALES_ALICE", "group:G_VP_RSI:member", "group:G_ENG:member"),
    }
    assert gone <= before
    assert user_grants(pg, "U_ALICE") == (before - gone) | {
        direct("group:G_SALES:member", "GM_SALES_ALICE", "group:G_ENG:member")
    }
    assert user_resource(pg, "U_ALICE")[5] is None


def test_role_revoke_of_a_role_the_user_does_not_hold_is_already_revoked(org, pg):
    succeeded(
        provision(
            action="revoke", entitlement_id=entitlement("role", "R_REP", "assigned"), user_id=ID["U_ALICE"]
        )
    )

    assert (request_row(pg)["status"], request_row(pg)["outcome"]) == ("no_change", "already_revoked")
    assert sf_records(org, "User", Id="U_ALICE")[0]["UserRoleId"] == ID["R_VP"]


# -- permission sets and permission set groups --------------------------------------------------------------


def test_permission_set_grant_then_repeat(org, pg):
    before = user_grants(pg, "U_ALICE")

    run = provision(action="grant", entitlement_id=REPORTS, user_id=ID["U_ALICE"])

    succeeded(run)
    (assignment,) = sf_records(
        org, "PermissionSetAssignment", AssigneeId="U_ALICE", PermissionSetId="PS_REPORTS"
    )
    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"]) == (
        "succeeded",
        "granted",
        assignment["Id"],
    )
    assert user_grants(pg, "U_ALICE") == before | {direct("permission:PS_REPORTS:assigned", assignment["Id"])}
    assert history_changes(pg, run.run_id)["opened"] == {("permission:PS_REPORTS:assigned", "U_ALICE")}

    with pg.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMA}.provisioning_requests")
    succeeded(provision(action="grant", entitlement_id=REPORTS, user_id=ID["U_ALICE"]))

    row = request_row(pg)
    assert (row["status"], row["outcome"], row["salesforce_record_id"]) == (
        "no_change", "already_granted", assignment["Id"],
    )  # fmt: skip
    assert (
        len(sf_records(org, "PermissionSetAssignment", AssigneeId="U_ALICE", PermissionSetId="PS_REPORTS"))
        == 1
    )


def test_permission_set_revoke_deletes_the_assignment(org, pg):
    before = user_grants(pg, "U_ALICE")

    run = provision(action="revoke", entitlement_id=SALES_PS, user_id=ID["U_ALICE"])

    succeeded(run)
    assert sf_records(org, "PermissionSetAssignment", AssigneeId="U_ALICE", PermissionSetId="PS_SALES") == []
    assert request_row(pg)["salesforce_record_id"] == "PSA_ALICE_SALES"
    assert user_grants(pg, "U_ALICE") == before - {
        direct("permission:PS_SALES:assigned", "PSA_ALICE_SALES", expires="2027-01-31 00:00")
    }
    assert history_changes(pg, run.run_id) == {
        "opened": set(),
        "closed": {("permission:PS_SALES:assigned", "U_ALICE")},
    }


def test_permission_set_revoke_repeated_is_already_revoked(org, pg):
    succeeded(provision(action="revoke", entitlement_id=REPORTS, user_id=ID["U_ALICE"]))

    assert (request_row(pg)["status"], request_row(pg)["outcome"]) == ("no_change", "already_revoked")


def test_permission_set_group_grant_brings_its_components(org, pg):
    before = user_grants(pg, "U_ALICE")

    succeeded(provision(action="grant", entitlement_id=SUPPORT, user_id=ID["U_ALICE"]))

    (assignment,) = sf_records(
        org, "PermissionSetAssignment", AssigneeId="U_ALICE", PermissionSetGroupId="PSG_SUPPORT"
    )
    assert assignment["PermissionSetId"] == ID["PS_AGG_SUPPORT"]
    psg = "permission_set_group:PSG_SUPPORT:member"
    assert request_row(pg)["changes"] == [
        {"operation": "create", "sobject": "PermissionSetAssignment",
         "values": {"AssigneeId": "U_ALICE", "PermissionSetGroupId": "PSG_SUPPORT"}}
    ]  # fmt: skip
    assert user_grants(pg, "U_ALICE") == before | {
        direct(psg, assignment["Id"]),
        derived("permission:PS_REPORTS:assigned", psg),
        derived("permission:PS_KNOWLEDGE:assigned", psg),
    }


def test_permission_set_group_revoke_keeps_a_component_also_held_directly(org, pg):
    before = user_grants(pg, "U_BOB")
    psg = "permission_set_group:PSG_SUPPORT:member"

    succeeded(provision(action="revoke", entitlement_id=SUPPORT, user_id=ID["U_BOB"]))

    assert sf_records(org, "PermissionSetAssignment", Id="PSA_BOB_SUPPORT") == []
    assert user_grants(pg, "U_BOB") == (
        before
        - {
            direct(psg, "PSA_BOB_SUPPORT"),
            derived("permission:PS_REPORTS:assigned", psg),
            direct("permission:PS_KNOWLEDGE:assigned", "PSA_BOB_KNOWLEDGE", psg),
        }
    ) | {direct("permission:PS_KNOWLEDGE:assigned", "PSA_BOB_KNOWLEDGE")}


# -- profiles ----------------------------------------------------------------------------------------------


def test_profile_grant_moves_the_user_to_the_profile(org, pg):
    before = user_grants(pg, "U_ODD")

    succeeded(provision(action="grant", entitlement_id=entitlement("profile", "P_ADMIN", "assigned"),
                        user_id=ID["U_ODD"]))  # fmt: skip

    (oscar,) = sf_records(org, "User", Id="U_ODD")
    assert oscar["ProfileId"] == ID["P_ADMIN"]
    assert request_row(pg)["changes"] == [
        {"operation": "update", "sobject": "User", "record_id": "U_ODD", "values": {"ProfileId": "P_ADMIN"},
         "before": {"ProfileId": "P_STD"}}
    ]  # fmt: skip
    assert user_grants(pg, "U_ODD") == (
        before
        - {direct("profile:P_STD:assigned", "U_ODD"), derived("group:G_ORG:member", "profile:P_STD:assigned")}
    ) | {
        direct("profile:P_ADMIN:assigned", "U_ODD"),
        derived("group:G_ORG:member", "profile:P_ADMIN:assigned"),
    }


def test_profile_revoke_moves_the_user_to_the_mapped_least_privileged_profile_once(org, pg):
    run = provision(
        action="revoke", entitlement_id=entitlement("profile", "P_STD", "assigned"), user_id=ID["U_ALICE"]
    )

    succeeded(run)
    (alice,) = sf_records(org, "User", Id="U_ALICE")
    assert alice["ProfileId"] == ID["P_MIN"]
    row = request_row(pg)
    assert (row["outcome"], row["changes"]) == (
        "revoked",
        [{"operation": "update", "sobject": "User", "record_id": "U_ALICE", "values": {"ProfileId": "P_MIN"},
          "before": {"ProfileId": "P_STD"}}],
    )  # fmt: skip
    grants = user_grants(pg, "U_ALICE")
    assert direct("profile:P_MIN:assigned", "U_ALICE") in grants
    assert not any(grant[0] == "profile:P_STD:assigned" for grant in grants)

    # The user no longer holds the revoked profile: a second revoke moves nobody.
    with pg.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMA}.provisioning_requests")
    succeeded(provision(action="revoke", entitlement_id=entitlement("profile", "P_STD", "assigned"),
                        user_id=ID["U_ALICE"]))  # fmt: skip
    assert (request_row(pg)["status"], request_row(pg)["outcome"]) == ("no_change", "already_revoked")
    assert sf_records(org, "User", Id="U_ALICE")[0]["ProfileId"] == ID["P_MIN"]


# -- territories -------------------------------------------------------------------------------------------


def test_territory_membership_grant_and_revoke(org, pg):
    before = user_grants(pg, "U_ALICE")

    succeeded(provision(action="grant", entitlement_id=NA, user_id=ID["U_ALICE"]))

    (association,) = sf_records(org, "UserTerritory2Association", UserId="U_ALICE", Territory2Id="T_NA")
    assert association["RoleInTerritory2"] is None
    na_subordinates = derived("group:G_T_NA_S:member", "territory:T_WEST:member")
    assert na_subordinates in before
    assert user_grants(pg, "U_ALICE") == (before - {na_subordinates}) | {
        direct("territory:T_NA:member", association["Id"]),
        derived("group:G_T_NA_S:member", "territory:T_NA:member", "territory:T_WEST:member"),
    }

    with pg.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMA}.provisioning_requests")
    succeeded(provision(action="revoke", entitlement_id=WEST, user_id=ID["U_ALICE"]))

    assert sf_records(org, "UserTerritory2Association", Id="UTA_ALICE_WEST") == []
    row = request_row(pg)
    # Leaving the territory ends the role held in it too; the change says so.
    assert row["changes"] == [
        {"operation": "delete", "sobject": "UserTerritory2Association", "record_id": "UTA_ALICE_WEST",
         "before": {"UserId": "U_ALICE", "Territory2Id": "T_WEST", "RoleInTerritory2": "Sales Rep"}}
    ]  # fmt: skip
    grants = user_grants(pg, "U_ALICE")
    assert not any(
        grant[0].startswith("territory:T_WEST") or grant[0] == "group:G_T_WEST:member" for grant in grants
    )
    assert derived("group:G_T_NA_S:member", "territory:T_NA:member") in grants


def test_territory_role_grant_replaces_the_other_role(org, pg):
    manager = entitlement("territory", "T_WEST", "role:Sales Manager")
    succeeded(provision(action="grant", entitlement_id=manager, user_id=ID["U_ALICE"]))

    (association,) = sf_records(org, "UserTerritory2Association", UserId="U_ALICE", Territory2Id="T_WEST")
    assert (association["Id"], association["RoleInTerritory2"]) == (ID["UTA_ALICE_WEST"], "Sales Manager")
    row = request_row(pg)
    assert (row["outcome"], row["changes"]) == (
        "granted",
        [{"operation": "update", "sobject": "UserTerritory2Association", "record_id": "UTA_ALICE_WEST",
          "values": {"RoleInTerritory2": "Sales Manager"}, "before": {"RoleInTerritory2": "Sales Rep"}}],
    )  # fmt: skip
    territory_grants = {g for g in user_grants(pg, "U_ALICE") if g[0].startswith("territory:")}
    assert territory_grants == {
        direct("territory:T_WEST:member", "UTA_ALICE_WEST"),
        direct("territory:T_WEST:role:Sales Manager", "UTA_ALICE_WEST"),
    }


def test_territory_role_grant_without_membership_creates_both(org, pg):
    succeeded(provision(action="grant", entitlement_id=entitlement("territory", "T_NA", "role:Sales Rep"),
                        user_id=ID["U_BOB"]))  # fmt: skip

    (association,) = sf_records(org, "UserTerritory2Association", UserId="U_BOB", Territory2Id="T_NA")
    assert association["RoleInTerritory2"] == "Sales Rep"
    territory_grants = {g for g in user_grants(pg, "U_BOB") if g[0].startswith("territory:")}
    assert territory_grants == {
        direct("territory:T_NA:member", association["Id"]),
        direct("territory:T_NA:role:Sales Rep", association["Id"]),
    }


def test_territory_role_revoke_keeps_the_membership(org, pg):
    succeeded(provision(action="revoke", entitlement_id=entitlement("territory", "T_WEST", "role:Sales Rep"),
                        user_id=ID["U_ALICE"]))  # fmt: skip

    (association,) = sf_records(org, "UserTerritory2Association", Id="UTA_ALICE_WEST")
    assert association["RoleInTerritory2"] is None
    territory_grants = {g for g in user_grants(pg, "U_ALICE") if g[0].startswith("territory:")}
    assert territory_grants == {direct("territory:T_WEST:member", "UTA_ALICE_WEST")}

    with pg.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMA}.provisioning_requests")
    succeeded(provision(action="revoke", entitlement_id=entitlement("territory", "T_WEST", "role:Sales Rep"),
                        user_id=ID["U_ALICE"]))  # fmt: skip
    assert (request_row(pg)["status"], request_row(pg)["outcome"]) == ("no_change", "already_revoked")


# -- the warehouse after a change is what the next sync shows ---------------------------------------------


def test_refreshed_rows_equal_what_a_full_sync_then_publishes(org, pg):
    from tests.sync.conftest import parse_dag

    for conf in (
        {"action": "grant", "entitlement_id": SUPPORT, "user_id": ID["U_ODD"]},
        {
            "action": "revoke",
            "entitlement_id": entitlement("role", "R_VP", "assigned"),
            "user_id": ID["U_ALICE"],
        },
        {"action": "grant", "entitlement_id": ENG, "user_id": ID["U_ALICE"]},
        {"action": "revoke", "entitlement_id": WEST, "user_id": ID["U_ALICE"]},
    ):
        succeeded(provision(**conf))
    refreshed = {user: user_grants(pg, user) for user in ("U_ODD", "U_ALICE")}
    resources = {user: user_resource(pg, user) for user in ("U_ODD", "U_ALICE")}

    run = parse_dag("salesforce_entitlements_sync").test(run_conf={})

    assert str(run.state) == "success", task_states(run)
    assert {user: user_grants(pg, user) for user in ("U_ODD", "U_ALICE")} == refreshed
    assert {user: user_resource(pg, user) for user in ("U_ODD", "U_ALICE")} == resources
