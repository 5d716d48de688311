"""The sync DAG end to end on Tiny Co: the exact rows each table holds, option by option."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.tiny_org import ID, NAME
from tests.sync.conftest import SCHEMA, run_sync, task_states

pytestmark = pytest.mark.usefixtures("tiny")


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True)


def named(value):
    """Replace every Salesforce id inside a value with the record's short name from the fixture."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(named(item) for item in value)
    text = str(value)
    for record_id, name in NAME.items():
        if record_id in text:
            text = text.replace(record_id, name)
    return text


def grants(pg) -> set[tuple]:
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT entitlement_id, principal_type, principal_id, is_direct, sources, source_record_id, "
            f"to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM {SCHEMA}.grants"
        )
        rows = cursor.fetchall()
    return {
        (named(ent), ptype, named(pid), direct, named(sources), named(record), expires)
        for ent, ptype, pid, direct, sources, record, expires in rows
    }


def direct(entitlement, principal, record, *, ptype="user", sources=(), expires=None):
    return (entitlement, ptype, principal, True, frozenset(sources), record, expires)


def derived(entitlement, principal, *sources):
    return (entitlement, "user", principal, False, frozenset(sources), None, None)


def role(name):
    return f"role:{name}:assigned"


def profile(name):
    return f"profile:{name}:assigned"


def group(name):
    return f"group:{name}:member"


def permission(name):
    return f"permission:{name}:assigned"


PSG = "permission_set_group:PSG_SUPPORT:member"

DEFAULT_GRANTS = {
    # Roles and profiles come from the User record itself.
    direct(role("R_CEO"), "U_ADMIN", "U_ADMIN"),
    direct(role("R_VP"), "U_ALICE", "U_ALICE"),
    direct(role("R_REP"), "U_BOB", "U_BOB"),
    direct(role("R_REP"), "U_DAN", "U_DAN"),
    direct(profile("P_ADMIN"), "U_ADMIN", "U_ADMIN"),
    direct(profile("P_STD"), "U_ALICE", "U_ALICE"),
    direct(profile("P_STD"), "U_BOB", "U_BOB"),
    direct(profile("P_MIN"), "U_CAROL", "U_CAROL"),
    direct(profile("P_STD"), "U_DAN", "U_DAN"),
    direct(profile("P_INT"), "U_SVC", "U_SVC"),
    direct(profile("P_STD"), "U_ODD", "U_ODD"),
    # GroupMember rows, users and nested groups; Sales Team and Engineering contain each other.
    direct(group("G_SALES"), "U_ALICE", "GM_SALES_ALICE", sources=[group("G_VP_RSI"), group("G_ENG")]),
    direct(group("G_SALES"), "G_VP_RSI", "GM_SALES_VP_RSI", ptype="group"),
    direct(group("G_SALES"), "G_ENG", "GM_SALES_ENG", ptype="group"),
    direct(group("G_ENG"), "U_BOB", "GM_ENG_BOB", sources=[group("G_SALES")]),
    direct(group("G_ENG"), "G_SALES", "GM_ENG_SALES", ptype="group"),
    direct(group("G_QUEUE"), "U_CAROL", "GM_QUEUE_CAROL"),
    # Permission set assignments (profile-owned ones are the profile's), the group's components.
    direct(permission("PS_SALES"), "U_ALICE", "PSA_ALICE_SALES", expires="2027-01-31 00:00"),
    direct(permission("PS_REPORTS"), "U_CAROL", "PSA_CAROL_REPORTS"),
    direct(permission("PS_KNOWLEDGE"), "U_BOB", "PSA_BOB_KNOWLEDGE", sources=[PSG]),
    direct(permission("PS_REPORTS"), "PSG_SUPPORT", "PSGC_REPORTS", ptype="permission_set_group"),
    direct(permission("PS_KNOWLEDGE"), "PSG_SUPPORT", "PSGC_KNOWLEDGE", ptype="permission_set_group"),
    direct(PSG, "U_BOB", "PSA_BOB_SUPPORT"),
    # Derived: role groups from the role hierarchy, All Internal Users from the profile, nested groups,
    # and a permission set group's components.
    derived(group("G_CEO_RS"), "U_ADMIN", role("R_CEO")),
    derived(group("G_ORG"), "U_ADMIN", profile("P_ADMIN")),
    derived(group("G_CEO_RS"), "U_ALICE", role("R_VP")),
    derived(group("G_VP_R"), "U_ALICE", role("R_VP")),
    derived(group("G_VP_RSI"), "U_ALICE", role("R_VP")),
    derived(group("G_ORG"), "U_ALICE", profile("P_STD")),
    derived(group("G_ENG"), "U_ALICE", group("G_SALES")),
    derived(group("G_CEO_RS"), "U_BOB", role("R_REP")),
    derived(group("G_VP_RSI"), "U_BOB", role("R_REP")),
    derived(group("G_REP_R"), "U_BOB", role("R_REP")),
    derived(group("G_ORG"), "U_BOB", profile("P_STD")),
    derived(group("G_SALES"), "U_BOB", group("G_VP_RSI"), group("G_ENG")),
    derived(permission("PS_REPORTS"), "U_BOB", PSG),
    derived(group("G_ORG"), "U_CAROL", profile("P_MIN")),
    derived(group("G_CEO_RS"), "U_DAN", role("R_REP")),
    derived(group("G_VP_RSI"), "U_DAN", role("R_REP")),
    derived(group("G_REP_R"), "U_DAN", role("R_REP")),
    derived(group("G_ORG"), "U_DAN", profile("P_STD")),
    derived(group("G_SALES"), "U_DAN", group("G_VP_RSI"), group("G_ENG")),
    derived(group("G_ENG"), "U_DAN", group("G_SALES")),
    derived(group("G_ORG"), "U_SVC", profile("P_INT")),
    derived(group("G_ORG"), "U_ODD", profile("P_STD")),
}

DEFAULT_USERS = {
    # name: (display_name, login, email, status, account_type, user_type, last_login_at, profile, role)
    "U_ADMIN": (
        "Ada Admin",
        "ada.admin@tiny.example",
        "ada.admin@tiny.example",
        "enabled",
        "human",
        "Standard",
        "2026-11-30 09:15",
        "P_ADMIN",
        "R_CEO",
    ),
    "U_ALICE": (
        "Alice Able",
        "alice@tiny.example",
        "alice@tiny.example",
        "enabled",
        "human",
        "Standard",
        "2026-11-30 09:15",
        "P_STD",
        "R_VP",
    ),
    "U_BOB": (
        "Bob Baker",
        "bob@tiny.example",
        "bob@tiny.example",
        "disabled",
        "human",
        "Standard",
        "2026-11-30 09:15",
        "P_STD",
        "R_REP",
    ),
    "U_CAROL": (
        "Carol Cole",
        "carol@tiny.example",
        "carol@tiny.example",
        "disabled",
        "human",
        "Standard",
        None,
        "P_MIN",
        None,
    ),
    "U_DAN": (
        "Dan",
        "dan@tiny.example",
        "noreply@tiny.example",
        "enabled",
        "human",
        "Standard",
        "2026-11-30 09:15",
        "P_STD",
        "R_REP",
    ),
    "U_SVC": (
        "Integration Service",
        "svc@tiny.example",
        "noreply@tiny.example",
        "enabled",
        "service",
        "Standard",
        "2026-11-30 09:15",
        "P_INT",
        None,
    ),
    # An odd offset (+0530) still parses, to UTC.
    "U_ODD": (
        "Oscar Odd",
        "oscar@tiny.example",
        "oscar@tiny.example",
        "enabled",
        "human",
        "Standard",
        "2026-03-05 04:30",
        "P_STD",
        None,
    ),
}

NON_STANDARD_USERS = {
    "U_AUTO": (
        "Automated Process",
        "autoproc@00d.tiny.example",
        "noreply@tiny.example",
        "enabled",
        "service",
        "AutomatedProcess",
        None,
        "P_MIN",
        None,
    ),
    "U_CLOUD": (
        "Cloud Integration",
        "cloud@tiny.example",
        "noreply@tiny.example",
        "enabled",
        "service",
        "CloudIntegrationUser",
        "2026-11-30 09:15",
        "P_INT",
        None,
    ),
    "U_PARTNER": (
        "Pat Partner",
        "pat@partner.example",
        "pat@partner.example",
        "enabled",
        "human",
        "PowerPartner",
        "2026-11-30 09:15",
        "P_PARTNER",
        "R_PARTNER",
    ),
    "U_CHATTER": (
        "Chet Chatter",
        "chet@tiny.example",
        "chet@tiny.example",
        "enabled",
        "human",
        "CsnOnly",
        "2026-11-30 09:15",
        "P_CHATTER",
        None,
    ),
    "U_GUEST": (
        "Site Guest User",
        "guest@tiny.example",
        "guest@tiny.example",
        "enabled",
        "human",
        "Guest",
        None,
        "P_GUEST",
        None,
    ),
}

GROUP_NAMES = {
    "G_CEO_RS": "CEO (role and subordinates)",
    "G_VP_R": "VP Sales (role)",
    "G_VP_RSI": "VP Sales (role and internal subordinates)",
    "G_REP_R": "Sales Rep (role)",
    "G_ORG": "All Internal Users",
    "G_SALES": "Sales Team",
    "G_ENG": "Engineering",
    "G_QUEUE": "Support Queue",
    "G_T_NA_S": "North America (territory and subordinates)",
    "G_T_WEST": "West (territory)",
}


def users(pg) -> dict[str, tuple]:
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT resource_id, display_name, login, email, status, account_type, user_type, "
            f"to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), profile_id, role_id "
            f"FROM {SCHEMA}.resources WHERE resource_type = 'user'"
        )
        return {named(row[0]): (*row[1:7], row[7], named(row[8]), named(row[9])) for row in cursor.fetchall()}


def resources(pg, resource_type: str) -> dict[str, tuple]:
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT resource_id, display_name, parent_resource_type, parent_resource_id "
            f"FROM {SCHEMA}.resources "
            "WHERE resource_type = %s",
            (resource_type,),
        )
        return {named(row[0]): (row[1], row[2], named(row[3])) for row in cursor.fetchall()}


def sync_run(pg) -> dict:
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT status, org_id, options, row_counts, coverage, api_calls, error_message, error_code "
            f"FROM {SCHEMA}.sync_runs ORDER BY started_at DESC LIMIT 1"
        )
        keys = (
            "status",
            "org_id",
            "options",
            "row_counts",
            "coverage",
            "api_calls",
            "error_message",
            "error_code",
        )
        return dict(zip(keys, cursor.fetchone(), strict=True))


def test_default_options_land_exact_resources_entitlements_and_grants(pg):
    dag_run = run_sync()

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert users(pg) == DEFAULT_USERS
    assert grants(pg) == DEFAULT_GRANTS
    assert {name: row[0] for name, row in resources(pg, "group").items()} == GROUP_NAMES
    assert resources(pg, "role") == {
        "R_CEO": ("CEO", None, None),
        "R_VP": ("VP Sales", "role", "R_CEO"),
        "R_REP": ("Sales Rep", "role", "R_VP"),
        "R_PARTNER": ("Partner Co Partner User", "role", "R_REP"),
    }
    assert resources(pg, "permission") == {
        "PS_SALES": ("Sales Cloud User", None, None),
        "PS_REPORTS": ("Manage Reports", None, None),
        "PS_KNOWLEDGE": ("Knowledge User", None, None),
    }
    assert resources(pg, "permission_set_group") == {"PSG_SUPPORT": ("Support Bundle", None, None)}
    assert {name: row[0] for name, row in resources(pg, "profile").items()} == {
        "P_ADMIN": "System Administrator",
        "P_STD": "Standard User",
        "P_MIN": "Minimum Access - Salesforce",
        "P_INT": "Minimum Access - API Only Integrations",
        "P_PARTNER": "Partner Community User",
        "P_CHATTER": "Chatter Free User",
        "P_GUEST": "Tiny Site Profile",
    }
    assert resources(pg, "territory") == {}
    assert resources(pg, "connected_application") == {}

    with pg.cursor() as cursor:
        cursor.execute(f"SELECT entitlement_id, slug, display_name, grantable_to FROM {SCHEMA}.entitlements")
        entitlements = {named(row[0]): (row[1], row[2], tuple(row[3])) for row in cursor.fetchall()}
    assert len(entitlements) == 4 + 7 + 3 + 1 + 10
    assert entitlements["group:G_SALES:member"] == ("member", "Sales Team Group Member", ("user", "group"))
    assert entitlements["role:R_VP:assigned"] == ("assigned", "VP Sales Role", ("user",))
    assert entitlements["permission:PS_SALES:assigned"] == (
        "assigned",
        "Sales Cloud User Permission Set",
        ("user", "permission_set_group"),
    )
    assert entitlements[PSG] == ("member", "Support Bundle Permission Set Group Member", ("user",))
    assert entitlements["profile:P_STD:assigned"] == ("assigned", "Standard User Profile", ("user",))

    run = sync_run(pg)
    assert run["status"] == "succeeded"
    assert run["org_id"] == ID["ORG"]
    assert sorted(run["coverage"], key=canonical) == sorted(
        [
            {
                "resource_type": "connected_application",
                "status": "skipped",
                "reason": "sync_connected_apps is false",
            },
            {"resource_type": "territory", "status": "skipped", "reason": "sync_territories is false"},
            # The partner's permission set assignment: partners are not synced by default.
            {
                "status": "skipped_records",
                "count": 1,
                "reason": "Grant whose principal is not synced (left out by the user options)",
            },
        ],
        key=canonical,
    )
    assert run["row_counts"]["grants.direct"] == 23
    assert run["row_counts"]["grants.derived"] == 22
    assert run["row_counts"]["extracted.User"] == 7
    assert run["row_counts"]["extracted.GroupMember"] == 6
    assert run["row_counts"]["extracted.PermissionSetAssignment"] == 4
    with pg.cursor() as cursor:
        cursor.execute(f"SELECT org_id, name, config_name, organization_type, is_sandbox FROM {SCHEMA}.orgs")
        assert cursor.fetchall() == [(ID["ORG"], "Tiny Co", "default", "Enterprise Edition", False)]


def test_username_as_email_uses_the_username(pg):
    dag_run = run_sync({"username_as_email": True})

    assert str(dag_run.state) == "success", task_states(dag_run)
    emails = {name: row[2] for name, row in users(pg).items()}
    assert emails == {name: row[1] for name, row in DEFAULT_USERS.items()}
    assert grants(pg) == DEFAULT_GRANTS


def test_without_deactivated_users_the_inactive_user_appears_nowhere(pg):
    dag_run = run_sync({"sync_deactivated_users": False})

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert users(pg) == {name: row for name, row in DEFAULT_USERS.items() if name != "U_CAROL"}
    assert grants(pg) == {grant for grant in DEFAULT_GRANTS if grant[2] != "U_CAROL"}


def test_non_standard_users_bring_their_grants_and_empty_user_type_is_counted(pg):
    dag_run = run_sync({"sync_non_standard_users": True})

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert users(pg) == {**DEFAULT_USERS, **NON_STANDARD_USERS}
    assert grants(pg) == DEFAULT_GRANTS | {
        direct(profile("P_MIN"), "U_AUTO", "U_AUTO"),
        direct(profile("P_INT"), "U_CLOUD", "U_CLOUD"),
        direct(profile("P_PARTNER"), "U_PARTNER", "U_PARTNER"),
        direct(role("R_PARTNER"), "U_PARTNER", "U_PARTNER"),
        direct(permission("PS_SALES"), "U_PARTNER", "PSA_PARTNER_SALES"),
        direct(profile("P_CHATTER"), "U_CHATTER", "U_CHATTER"),
        direct(profile("P_GUEST"), "U_GUEST", "U_GUEST"),
        # A partner is in role-and-subordinates groups but not in the internal-subordinates one, nor in
        # All Internal Users; no other non-standard user is in All Internal Users either.
        derived(group("G_CEO_RS"), "U_PARTNER", role("R_PARTNER")),
    }
    assert {"status": "skipped_records", "reason": "User with empty UserType", "count": 1} in sync_run(pg)[
        "coverage"
    ]


def test_connected_apps_are_held_through_profile_permission_set_and_group(pg):
    dag_run = run_sync({"sync_connected_apps": True})

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert resources(pg, "connected_application") == {
        "APP_MOBILE": ("Salesforce Mobile", None, None),
        "APP_LOADER": ("Dataloader", None, None),
    }
    mobile, loader = "connected_application:APP_MOBILE:access", "connected_application:APP_LOADER:access"
    assert grants(pg) == DEFAULT_GRANTS | {
        derived(mobile, "U_ALICE", profile("P_STD")),
        derived(mobile, "U_BOB", profile("P_STD")),
        derived(mobile, "U_DAN", profile("P_STD")),
        derived(mobile, "U_ODD", profile("P_STD")),
        derived(loader, "U_ALICE", permission("PS_SALES")),
        derived(loader, "U_BOB", PSG),
    }


def test_territories_of_the_active_model_with_roles_and_territory_groups(pg):
    dag_run = run_sync({"sync_territories": True})

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert resources(pg, "territory") == {
        "T_NA": ("North America", None, None),
        "T_WEST": ("West", "territory", "T_NA"),
    }
    with pg.cursor() as cursor:
        cursor.execute(
            f"SELECT entitlement_id, display_name FROM {SCHEMA}.entitlements "
            "WHERE resource_type = 'territory'"
        )
        assert {named(row[0]): row[1] for row in cursor.fetchall()} == {
            "territory:T_NA:member": "North America Territory Member",
            "territory:T_NA:role:Sales Rep": "North America Territory Sales Rep",
            "territory:T_NA:role:Sales Manager": "North America Territory Sales Manager",
            # Overlay is an inactive picklist value, offered because an association uses it.
            "territory:T_NA:role:Overlay": "North America Territory Overlay",
            "territory:T_WEST:member": "West Territory Member",
            "territory:T_WEST:role:Sales Rep": "West Territory Sales Rep",
            "territory:T_WEST:role:Sales Manager": "West Territory Sales Manager",
            "territory:T_WEST:role:Overlay": "West Territory Overlay",
        }
    assert grants(pg) == DEFAULT_GRANTS | {
        direct("territory:T_WEST:member", "U_ALICE", "UTA_ALICE_WEST"),
        direct("territory:T_WEST:role:Sales Rep", "U_ALICE", "UTA_ALICE_WEST"),
        direct("territory:T_NA:member", "U_DAN", "UTA_DAN_NA"),
        direct("territory:T_NA:member", "U_ODD", "UTA_ODD_NA"),
        direct("territory:T_NA:role:Overlay", "U_ODD", "UTA_ODD_NA"),
        # Bob's association is in the planning model: not a resource, not a grant.
        derived(group("G_T_NA_S"), "U_ALICE", "territory:T_WEST:member"),
        derived(group("G_T_NA_S"), "U_DAN", "territory:T_NA:member"),
        derived(group("G_T_NA_S"), "U_ODD", "territory:T_NA:member"),
        derived(group("G_T_WEST"), "U_ALICE", "territory:T_WEST:member"),
    }


def test_license_profile_map_is_kept_with_the_run_options(pg):
    mapping = {"Salesforce": "Minimum Access - Salesforce"}

    dag_run = run_sync({"license_profile_map": mapping})

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert sync_run(pg)["options"] == {
        "username_as_email": False,
        "sync_connected_apps": False,
        "sync_deactivated_users": True,
        "sync_non_standard_users": False,
        "sync_territories": False,
        "license_profile_map": mapping,
    }


def test_bi_views_answer_for_tiny_co(pg):
    dag_run = run_sync()

    assert str(dag_run.state) == "success", task_states(dag_run)
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE held_how = 'inherited') "
            f"FROM {SCHEMA}.effective_user_access"
        )
        user_grants = {grant for grant in DEFAULT_GRANTS if grant[1] == "user"}
        assert cursor.fetchone() == (len(user_grants), 22)
        cursor.execute(
            f"SELECT user_name, entitlement_name, held_how FROM {SCHEMA}.effective_user_access "
            "WHERE user_id = %s AND resource_type = 'group' ORDER BY 2",
            (ID["U_ALICE"],),
        )
        assert cursor.fetchall() == [
            ("Alice Able", "All Internal Users Group Member", "inherited"),
            ("Alice Able", "CEO (role and subordinates) Group Member", "inherited"),
            ("Alice Able", "Engineering Group Member", "inherited"),
            ("Alice Able", "Sales Team Group Member", "direct and inherited"),
            ("Alice Able", "VP Sales (role and internal subordinates) Group Member", "inherited"),
            ("Alice Able", "VP Sales (role) Group Member", "inherited"),
        ]
        cursor.execute(f"SELECT user_name, privileges FROM {SCHEMA}.privileged_access ORDER BY 1")
        assert cursor.fetchall() == [
            (
                "Ada Admin",
                ["Modify All Data", "View All Data", "Manage Users", "Customize Application", "Author Apex",
                 "System Administrator profile"],
            )
        ]  # fmt: skip
        cursor.execute(
            "SELECT user_name, user_status, is_active, grants_held "
            f"FROM {SCHEMA}.disabled_users_with_access ORDER BY 1"
        )
        assert cursor.fetchall() == [
            ("Bob Baker", "disabled", True, 11),
            ("Carol Cole", "disabled", False, 4),
        ]
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'v' AND obj_description(c.oid) IS NOT NULL ORDER BY 1",
            (SCHEMA,),
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "access_changes", "disabled_users_with_access", "effective_user_access", "privileged_access",
        ]  # fmt: skip
