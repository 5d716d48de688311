"""Tests for the deterministic demo org generator (`local_salesforce.demo`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter

import jwt
import pytest
from cryptography import x509

from local_salesforce import schema
from local_salesforce.demo import SIZES, count_grant_rows, generate
from local_salesforce.ids import KEY_PREFIXES, to_18
from local_salesforce.store import load_fixture

# Every reference field the generator writes, with the objects it may point at.
REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "User": {"ProfileId": ("Profile",), "UserRoleId": ("UserRole",), "ManagerId": ("User",)},
    "UserLogin": {"UserId": ("User",)},
    "Profile": {"UserLicenseId": ("UserLicense",)},
    "UserRole": {"ParentRoleId": ("UserRole",)},
    "Group": {"RelatedId": ("UserRole", "User", "Territory2"), "OwnerId": ("User", "Organization")},
    "GroupMember": {"GroupId": ("Group",), "UserOrGroupId": ("User", "Group")},
    "PermissionSet": {
        "ProfileId": ("Profile",),
        "PermissionSetGroupId": ("PermissionSetGroup",),
        "LicenseId": ("UserLicense",),
    },
    "PermissionSetAssignment": {
        "AssigneeId": ("User",),
        "PermissionSetId": ("PermissionSet",),
        "PermissionSetGroupId": ("PermissionSetGroup",),
    },
    "PermissionSetGroupComponent": {
        "PermissionSetGroupId": ("PermissionSetGroup",),
        "PermissionSetId": ("PermissionSet",),
    },
    "SetupEntityAccess": {"ParentId": ("PermissionSet",), "SetupEntityId": ("ConnectedApplication",)},
    "Territory2": {
        "Territory2ModelId": ("Territory2Model",),
        "Territory2TypeId": ("Territory2Type",),
        "ParentTerritory2Id": ("Territory2",),
    },
    "UserTerritory2Association": {"UserId": ("User",), "Territory2Id": ("Territory2",)},
}
SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")
USER_REQUIRED = (
    "Username",
    "LastName",
    "Email",
    "Alias",
    "TimeZoneSidKey",
    "LocaleSidKey",
    "EmailEncodingKey",
    "LanguageLocaleKey",
    "ProfileId",
    "CommunityNickname",
)

# Counts of the small org for seed 0; a change here means the demo org changed shape.
SMALL_COUNTS = {
    "Organization": 1,
    "UserLicense": 10,
    "Profile": 22,
    "PermissionSet": 63,
    "UserRole": 41,
    "User": 200,
    "UserLogin": 200,
    "PermissionSetGroup": 8,
    "PermissionSetGroupComponent": 30,
    "Territory2Type": 4,
    "Territory2Model": 2,
    "Territory2": 22,
    "ConnectedApplication": 5,
    "SetupEntityAccess": 11,
}


@pytest.fixture(scope="module")
def small() -> tuple[dict, dict]:
    return generate("small", 0)


@pytest.fixture(scope="module")
def medium() -> tuple[dict, dict]:
    return generate("medium", 0)


def _by_id(records: dict) -> dict[str, tuple[str, dict]]:
    return {record["Id"]: (name, record) for name, rows in records.items() for record in rows}


def _dump(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _without_certificates(org: dict) -> str:
    apps = [{key: value for key, value in app.items() if key != "certificate"} for app in org["oauth_apps"]]
    return _dump({**org, "oauth_apps": apps})


# --- determinism ---


def test_same_seed_gives_the_same_fixture_and_secrets(small):
    fixture, secrets = small

    again_fixture, again_secrets = generate("small", 0)

    assert _dump(again_fixture) == _dump(fixture)
    assert again_secrets == secrets


def test_records_are_identical_in_another_process_and_only_the_key_changes(small):
    fixture, secrets = small
    script = (
        "import json, sys; from local_salesforce.demo import generate; "
        "f, s = generate('small', 0); json.dump({'fixture': f, 'secrets': s}, sys.stdout, sort_keys=True)"
    )

    result = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True)
    other = json.loads(result.stdout)

    assert _dump(other["fixture"]["records"]) == _dump(fixture["records"])
    assert _without_certificates(other["fixture"]["org"]) == _without_certificates(fixture["org"])
    assert other["secrets"]["private_key_pem"] != secrets["private_key_pem"]
    assert {k: v for k, v in other["secrets"].items() if k != "private_key_pem"} == {
        k: v for k, v in secrets.items() if k != "private_key_pem"
    }


def test_another_seed_gives_another_org(small):
    fixture, secrets = small

    other, other_secrets = generate("small", 1)

    assert _dump(other["records"]) != _dump(fixture["records"])
    assert other["records"]["Organization"][0]["Name"] == "Globex Corporation"
    assert other_secrets["password"] != secrets["password"]


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="size must be one of"):
        generate("huge", 0)


# --- sizes ---


def test_small_org_has_the_expected_shape(small):
    fixture, _secrets = small
    records = fixture["records"]

    counts = {name: len(rows) for name, rows in records.items() if name in SMALL_COUNTS}

    assert counts == SMALL_COUNTS
    assert fixture["format"] == 1
    assert 1_500 <= count_grant_rows(fixture) <= 4_000


def test_medium_org_hits_its_targets(medium):
    fixture, _secrets = medium
    records = fixture["records"]

    assert len(records["User"]) == 20_000
    assert len(records["UserLogin"]) == 20_000
    assert 225_000 <= count_grant_rows(fixture) <= 375_000
    assert 100 <= len(records["UserRole"]) <= 400
    assert fixture["org"]["daily_api_limit"] == 100_000 + 1_000 * 20_000


def test_medium_org_generates_quickly():
    started = time.perf_counter()

    generate("medium", 3)

    assert time.perf_counter() - started < 30


@pytest.mark.slow
def test_large_org_hits_its_targets():
    fixture, _secrets = generate("large", 0)

    assert len(fixture["records"]["User"]) == SIZES["large"].users
    assert 1_100_000 <= count_grant_rows(fixture) <= 1_900_000


# --- ids and references ---


@pytest.mark.parametrize("org", ["small", "medium"])
def test_every_id_is_valid_and_carries_its_object_prefix(org, request):
    fixture, _secrets = request.getfixturevalue(org)

    for name, rows in fixture["records"].items():
        for record in rows:
            assert to_18(record["Id"]) == record["Id"], (name, record["Id"])
            assert record["Id"].startswith(KEY_PREFIXES[name]), (name, record["Id"])
    assert len(_by_id(fixture["records"])) == sum(len(rows) for rows in fixture["records"].values())


@pytest.mark.parametrize("org", ["small", "medium"])
def test_every_reference_points_at_a_record_of_the_right_object(org, request):
    fixture, _secrets = request.getfixturevalue(org)
    records = fixture["records"]
    index = _by_id(records)

    for name, rows in records.items():
        allowed = REFERENCES.get(name, {})
        for record in rows:
            for field, value in record.items():
                if field == "Id" or not field.endswith("Id") or value is None:
                    continue
                assert field in allowed, f"{name}.{field} is not a known reference field"
                assert value in index, f"{name}.{field} = {value} points nowhere"
                assert index[value][0] in allowed[field], f"{name}.{field} points at a {index[value][0]}"


def test_the_local_org_loads_the_fixture_unchanged(small):
    fixture, secrets = small
    before = _dump(fixture)

    store = load_fixture(fixture, "demo")

    assert _dump(fixture) == before
    assert len(store.tables["User"]) == len(fixture["records"]["User"])
    # The fixture already holds every implicit record, so loading adds none.
    assert len(store.tables["PermissionSetAssignment"]) == len(fixture["records"]["PermissionSetAssignment"])
    assert len(store.tables["UserLogin"]) == len(fixture["records"]["UserLogin"])
    integration = store.user_by_username(secrets["username"])
    assert {
        "PermissionsApiEnabled",
        "PermissionsManageUsers",
        "PermissionsCustomizeApplication",
        "PermissionsManageRoles",
        "PermissionsViewSetup",
    } <= store.effective_permissions(integration["Id"])


def test_user_picklists_use_values_the_local_org_accepts(small):
    users = small[0]["records"]["User"]

    assert {user["TimeZoneSidKey"] for user in users} <= set(schema.TIME_ZONES)
    assert {user["LocaleSidKey"] for user in users} <= set(schema.LOCALES)
    assert {user["LanguageLocaleKey"] for user in users} <= set(schema.LANGUAGES)
    assert {user["EmailEncodingKey"] for user in users} <= set(schema.EMAIL_ENCODINGS)


@pytest.mark.parametrize("org", ["small", "medium"])
def test_text_fits_the_field_lengths_and_api_names_are_unique(org, request):
    records = request.getfixturevalue(org)[0]["records"]

    for name, rows in records.items():
        fields = schema.OBJECTS[name].fields
        for record in rows:
            for field, value in record.items():
                limit = fields[field].length
                if isinstance(value, str) and fields[field].type in schema.TEXT_TYPES and limit:
                    assert len(value) <= limit, (name, field, value)
    group_names = Counter((group["Type"], group["DeveloperName"]) for group in records["Group"])
    assert max(group_names.values()) == 1
    assert len({role["DeveloperName"] for role in records["UserRole"]}) == len(records["UserRole"])
    assert len({ps["Name"] for ps in records["PermissionSet"]}) == len(records["PermissionSet"])


def test_dates_use_the_salesforce_format(small):
    fixture, _secrets = small

    stamps = [
        value
        for rows in fixture["records"].values()
        for record in rows
        for field, value in record.items()
        if field.endswith("Date") or field == "UsedLicensesLastUpdated"
    ]

    assert len(stamps) > 300
    assert all(SF_DATETIME.match(stamp) for stamp in stamps)


# --- profiles, permission sets and assignments ---


@pytest.mark.parametrize("org", ["small", "medium"])
def test_every_user_holds_exactly_their_profiles_own_permission_set(org, request):
    fixture, _secrets = request.getfixturevalue(org)
    records = fixture["records"]
    profile_owned = {ps["Id"]: ps["ProfileId"] for ps in records["PermissionSet"] if ps["IsOwnedByProfile"]}

    held = Counter()
    for assignment in records["PermissionSetAssignment"]:
        if assignment["PermissionSetId"] in profile_owned:
            held[assignment["AssigneeId"]] += 1

    profile_of = {user["Id"]: user["ProfileId"] for user in records["User"]}
    assert held == Counter(dict.fromkeys(profile_of, 1))
    for assignment in records["PermissionSetAssignment"]:
        owner = profile_owned.get(assignment["PermissionSetId"])
        assert owner is None or owner == profile_of[assignment["AssigneeId"]]


def test_every_profile_owns_exactly_one_permission_set(small):
    records = small[0]["records"]

    owners = Counter(ps["ProfileId"] for ps in records["PermissionSet"] if ps["IsOwnedByProfile"])
    profile_sets = [ps for ps in records["PermissionSet"] if ps["IsOwnedByProfile"]]

    assert owners == Counter({profile["Id"]: 1 for profile in records["Profile"]})
    assert all(ps["Type"] == "Profile" and ps["Name"] == "X" + ps["ProfileId"][:15] for ps in profile_sets)
    assert not any(ps.get("ProfileId") for ps in records["PermissionSet"] if not ps["IsOwnedByProfile"])


def test_standard_and_custom_profiles_are_present(small):
    records = small[0]["records"]
    names = {profile["Name"] for profile in records["Profile"]}
    admin = next(profile for profile in records["Profile"] if profile["Name"] == "System Administrator")
    admin_set = next(ps for ps in records["PermissionSet"] if ps.get("ProfileId") == admin["Id"])

    assert {
        "System Administrator",
        "Standard User",
        "Read Only",
        "Minimum Access - Salesforce",
        "Solution Manager",
        "Marketing User",
        "Contract Manager",
        "Chatter Free User",
        "Customer Community User",
        "Partner Community User",
        "Minimum Access - API Only Integrations",
        "Sales Ops",
    } <= names
    assert admin_set["PermissionsModifyAllData"] and admin_set["PermissionsManageUsers"]
    assert admin_set["PermissionsCustomizeApplication"] and admin_set["PermissionsApiEnabled"]


def test_licences_carry_real_keys_and_enough_seats(small):
    records = small[0]["records"]

    keys = {lic["LicenseDefinitionKey"]: lic for lic in records["UserLicense"]}

    assert {"SFDC", "AUL", "PID_Chatter", "PID_Customer_Community", "PID_Partner_Community"} <= set(keys)
    assert any(key.endswith("_INTEGRATION_USER") for key in keys)
    assert keys["SFDC"]["Name"] == "Salesforce"
    assert all(lic["UsedLicenses"] <= lic["TotalLicenses"] for lic in records["UserLicense"])
    assert keys["SFDC"]["UsedLicenses"] > 100


def test_permission_set_group_assignments_point_at_the_aggregate_set(small):
    records = small[0]["records"]
    aggregate_of = {
        ps["PermissionSetGroupId"]: ps["Id"] for ps in records["PermissionSet"] if ps["Type"] == "Group"
    }

    group_rows = [row for row in records["PermissionSetAssignment"] if "PermissionSetGroupId" in row]

    assert set(aggregate_of) == {group["Id"] for group in records["PermissionSetGroup"]}
    assert all(group["Status"] == "Updated" for group in records["PermissionSetGroup"])
    assert group_rows
    assert all(row["PermissionSetId"] == aggregate_of[row["PermissionSetGroupId"]] for row in group_rows)
    components = Counter(row["PermissionSetGroupId"] for row in records["PermissionSetGroupComponent"])
    assert set(components) == set(aggregate_of) and min(components.values()) >= 2


def test_assignments_are_unique_respect_licences_and_some_expire(medium):
    records = medium[0]["records"]
    licence_of_profile = {profile["Id"]: profile["UserLicenseId"] for profile in records["Profile"]}
    licence_of_user = {user["Id"]: licence_of_profile[user["ProfileId"]] for user in records["User"]}
    licence_of_set = {ps["Id"]: ps.get("LicenseId") for ps in records["PermissionSet"]}
    rows = records["PermissionSetAssignment"]

    pairs = Counter((row["AssigneeId"], row["PermissionSetId"]) for row in rows)

    assert max(pairs.values()) == 1
    assert all(licence_of_set[ps] in (None, licence_of_user[user]) for user, ps in pairs)
    expiring = [row for row in rows if "ExpirationDate" in row]
    assert 100 <= len(expiring) <= len(rows) // 10
    assert all(SF_DATETIME.match(row["ExpirationDate"]) for row in expiring)


# --- roles and groups ---


def test_every_role_has_its_system_groups(small):
    records = small[0]["records"]
    groups = Counter((group.get("RelatedId"), group["Type"]) for group in records["Group"])

    for role in records["UserRole"]:
        portal = role["PortalType"] != "None"
        assert groups[(role["Id"], "Role")] == 1
        assert groups[(role["Id"], "RoleAndSubordinates")] == 1
        assert groups[(role["Id"], "RoleAndSubordinatesInternal")] == (0 if portal else 1)
    system = [g for g in records["Group"] if g["Type"] not in ("Regular", "Queue")]
    assert not any(group.get("Name") for group in system)
    assert [g["DeveloperName"] for g in records["Group"] if g["Type"] == "Organization"] == [
        "AllInternalUsers"
    ]


def test_role_hierarchy_is_a_tree_under_the_ceo(small):
    roles = {role["Id"]: role for role in small[0]["records"]["UserRole"]}

    roots = [role["Name"] for role in roles.values() if "ParentRoleId" not in role]

    assert roots == ["CEO"]
    for role in roles.values():
        seen, current = set(), role
        while "ParentRoleId" in current:
            assert current["Id"] not in seen
            seen.add(current["Id"])
            current = roles[current["ParentRoleId"]]
    assert sum(role["PortalType"] == "Partner" for role in roles.values()) >= 3


def test_public_groups_nest_with_a_cycle_and_hold_users_and_role_groups(small):
    records = small[0]["records"]
    groups = {group["Id"]: group for group in records["Group"]}
    edges = {(m["GroupId"], m["UserOrGroupId"]) for m in records["GroupMember"]}
    member_types = Counter(groups[member]["Type"] if member in groups else "User" for _group, member in edges)

    assert all(groups[group]["Type"] in ("Regular", "Queue") for group, _member in edges)
    assert any((member, group) in edges for group, member in edges)  # a two-group cycle
    assert member_types["User"] > 100
    assert member_types["Regular"] >= 5
    assert member_types["Role"] >= 1 and member_types["RoleAndSubordinates"] >= 1
    assert member_types["Organization"] == 1
    assert {"Territory", "TerritoryAndSubordinates"} <= {g["Type"] for g in records["Group"]}
    assert sum(g["Type"] == "Queue" for g in records["Group"]) >= 2
    assert len(edges) == len(records["GroupMember"])


# --- users ---


def test_users_cover_the_cases_the_pipeline_must_handle(small):
    records = small[0]["records"]
    users = records["User"]
    frozen = {login["UserId"] for login in records["UserLogin"] if login["IsFrozen"]}
    active = {user["Id"] for user in users if user["IsActive"]}

    types = Counter(user["UserType"] for user in users)

    assert types.keys() >= {
        "Standard",
        "PowerPartner",
        "CspLitePortal",
        "CsnOnly",
        "Guest",
        "AutomatedProcess",
        "CloudIntegrationUser",
        "",
    }
    assert types[""] == 1
    assert types["Standard"] > 150
    assert frozen & active and frozen - active
    assert 0 < len(users) - len(active) < 40
    assert any("FirstName" not in user for user in users)
    assert any("LastLoginDate" not in user for user in users)
    assert Counter(user["Email"] for user in users).most_common(1)[0][1] >= 3
    assert Counter(login["UserId"] for login in records["UserLogin"]) == Counter(u["Id"] for u in users)


@pytest.mark.parametrize("org", ["small", "medium"])
def test_user_fields_are_complete_and_unique_where_salesforce_requires(org, request):
    users = request.getfixturevalue(org)[0]["records"]["User"]

    assert all(all(user.get(field) for field in USER_REQUIRED) for user in users)
    assert all(len(user["Alias"]) <= 8 and len(user["CommunityNickname"]) <= 40 for user in users)
    assert len({user["Username"].lower() for user in users}) == len(users)
    assert len({user["CommunityNickname"] for user in users}) == len(users)
    assert all(re.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+", user["Username"]) for user in users)
    assert all(
        user["Name"] == " ".join(filter(None, (user.get("FirstName"), user["LastName"]))) for user in users
    )


def test_partner_users_sit_in_portal_roles_and_service_users_are_recognisable(small):
    records = small[0]["records"]
    roles = {role["Id"]: role for role in records["UserRole"]}
    licence_key = {lic["Id"]: lic["LicenseDefinitionKey"] for lic in records["UserLicense"]}
    profile_key = {profile["Id"]: licence_key[profile["UserLicenseId"]] for profile in records["Profile"]}

    partners = [user for user in records["User"] if user["UserType"] == "PowerPartner"]
    integration_licensed = [
        user
        for user in records["User"]
        if user["UserType"] == "Standard" and profile_key[user["ProfileId"]].endswith("_INTEGRATION_USER")
    ]

    assert partners and all(roles[user["UserRoleId"]]["PortalType"] == "Partner" for user in partners)
    assert len(integration_licensed) >= 2


# --- territories ---


def test_territories_have_an_active_and_a_planning_model(small):
    fixture = small[0]
    records = fixture["records"]
    models = {model["State"]: model for model in records["Territory2Model"]}
    territory_model = {t["Id"]: t["Territory2ModelId"] for t in records["Territory2"]}
    picklist = fixture["org"]["picklists"]["UserTerritory2Association.RoleInTerritory2"]
    associations = records["UserTerritory2Association"]

    values = Counter(row.get("RoleInTerritory2") for row in associations)

    assert fixture["org"]["territory_management"] is True
    assert set(models) == {"Active", "Planning"}
    assert set(territory_model.values()) == {models["Active"]["Id"], models["Planning"]["Id"]}
    assert {"Sales Rep", "Sales Manager", "Sales Engineer"} <= {v["value"] for v in picklist if v["active"]}
    inactive = {v["value"] for v in picklist if not v["active"]}
    assert inactive and inactive & set(values)
    assert values[None] > 0
    assert set(values) - {None} <= {v["value"] for v in picklist}
    assert any(territory_model[row["Territory2Id"]] == models["Planning"]["Id"] for row in associations)
    territory_groups = {g["RelatedId"] for g in records["Group"] if g["Type"] == "Territory"}
    active_territories = {t for t, model in territory_model.items() if model == models["Active"]["Id"]}
    assert territory_groups == active_territories


# --- connected apps and credentials ---


def test_connected_apps_are_opened_by_regular_profile_and_group_permission_sets(small):
    records = small[0]["records"]
    sets = {ps["Id"]: ps for ps in records["PermissionSet"]}

    parent_types = {sets[row["ParentId"]]["Type"] for row in records["SetupEntityAccess"]}

    assert {"Regular", "Profile", "Group"} <= parent_types
    assert all(row["SetupEntityType"] == "ConnectedApplication" for row in records["SetupEntityAccess"])
    names = {app["Name"] for app in records["ConnectedApplication"]}
    assert {"Salesforce for Outlook", "Salesforce Mobile", "Acme Integration"} <= names


def test_secrets_match_the_org_and_the_integration_user_is_an_admin(small):
    fixture, secrets = small
    records = fixture["records"]
    org = fixture["org"]
    user = next(u for u in records["User"] if u["Username"] == secrets["username"])
    profile = next(p for p in records["Profile"] if p["Id"] == user["ProfileId"])
    app = org["oauth_apps"][0]

    assert set(secrets) == {
        "username",
        "password",
        "security_token",
        "consumer_key",
        "consumer_secret",
        "private_key_pem",
        "refresh_token",
    }
    assert profile["Name"] == "System Administrator" and user["IsActive"]
    assert org["credentials"] == [
        {
            "username": user["Username"],
            "password": secrets["password"],
            "security_token": secrets["security_token"],
        }
    ]
    assert (app["consumer_key"], app["consumer_secret"]) == (
        secrets["consumer_key"],
        secrets["consumer_secret"],
    )
    assert app["permitted_users"] == "admin_approved"
    assert app["approved_usernames"] == [user["Username"]] == [app["client_credentials_user"]]
    assert app["refresh_tokens"] == [{"token": secrets["refresh_token"], "username": user["Username"]}]
    assert org["api_enabled"] is True and org["session_seconds"] == 7200 and org["validation_rules"] == []


def test_certificate_verifies_a_jwt_signed_with_the_private_key(small):
    fixture, secrets = small
    certificate = x509.load_pem_x509_certificate(fixture["org"]["oauth_apps"][0]["certificate"].encode())
    claims = {
        "iss": secrets["consumer_key"],
        "sub": secrets["username"],
        "aud": "https://login.salesforce.com",
    }

    token = jwt.encode({**claims, "exp": 4_102_444_800}, secrets["private_key_pem"], algorithm="RS256")
    decoded = jwt.decode(token, certificate.public_key(), algorithms=["RS256"], audience=claims["aud"])

    assert decoded["sub"] == secrets["username"]
