"""SOQL through query/queryAll with the real simple-salesforce client: shapes, semantics, paging, errors."""

from __future__ import annotations

import copy
import re

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from local_salesforce.ids import IdGenerator
from tests.local_org.conftest import client_credentials_token, direct_client

_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)


def _error(call) -> dict:
    with pytest.raises(SalesforceMalformedRequest) as failure:
        call()
    [item] = failure.value.content
    return dict(item)


def _with_regular_groups(org_data, total: int) -> dict:
    """The test org plus Regular groups so that exactly `total` of them exist."""
    fixture = copy.deepcopy(org_data.fixture)
    generator = IdGenerator(seed=99)
    for number in range(total - 1):  # the org already has one Regular group
        fixture["records"]["Group"].append(
            {
                "Id": generator.new("Group"),
                "Name": f"Group {number:04d}",
                "DeveloperName": f"Group_{number:04d}",
                "Type": "Regular",
            }
        )
    return fixture


def test_record_shape_with_parent_paths_and_null_relationship(sf, ids):
    result = sf.query(
        "SELECT Id, Username, IsActive, LastLoginDate, Profile.Name, "
        f"Profile.UserLicense.LicenseDefinitionKey, UserRole.Name FROM User WHERE Id = '{ids['user_2']}'"
    )

    base = "/services/data/v59.0/sobjects"
    assert result == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {"type": "User", "url": f"{base}/User/{ids['user_2']}"},
                "Id": ids["user_2"],
                "Username": "user2@acme.test",
                "IsActive": True,
                "LastLoginDate": "2024-06-02T08:30:00.000+0000",
                "Profile": {
                    "attributes": {"type": "Profile", "url": f"{base}/Profile/{ids['prof_standard']}"},
                    "Name": "Standard User",
                    "UserLicense": {
                        "attributes": {"type": "UserLicense", "url": f"{base}/UserLicense/{ids['lic_sf']}"},
                        "LicenseDefinitionKey": "SFDC",
                    },
                },
                "UserRole": None,
            }
        ],
    }


def test_polymorphic_related_name_on_groups(sf, ids):
    result = sf.query("SELECT Name, Type, Related.Name FROM Group WHERE Type = 'Role' ORDER BY Related.Name")

    assert [(r["Name"], r["Related"]["Name"]) for r in result["records"]] == [
        (None, "CEO"),
        (None, "Sales Rep"),
        (None, "VP Sales"),
    ]
    assert result["records"][0]["Related"]["attributes"] == {
        "type": "Name",
        "url": f"/services/data/v59.0/sobjects/UserRole/{ids['role_ceo']}",
    }


def test_names_are_case_insensitive_and_answered_in_canonical_case(sf):
    record = sf.query("select username, PROFILE.name from USER where USERNAME = 'ADMIN@ACME.TEST'")[
        "records"
    ][0]

    assert list(record) == ["attributes", "Username", "Profile"]
    assert record["Username"] == "admin@acme.test"
    assert record["Profile"]["Name"] == "System Administrator"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Alias IN ('u1', 'U3')", ["u1", "u3"]),
        ("Alias NOT IN ('u1', 'u2', 'u3', 'u4', 'u5', 'u6')", ["aadmin", "integ"]),
        ("Alias LIKE 'u%' AND (NOT Alias LIKE '%1') AND IsActive = true", ["u2", "u3", "u4", "u5"]),
        ("LastName LIKE 'last_'", ["u1", "u2", "u3", "u4", "u5", "u6"]),
        ("UserRoleId = null AND Alias LIKE 'u%'", ["u2", "u4", "u6"]),
        ("UserRole.Name = null AND Alias != 'integ'", ["u2", "u4", "u6"]),
        ("IsActive = false", ["u6"]),
        ("LastLoginDate > 2024-06-01T08:30:00Z", ["u2", "u3"]),
        (
            "LastLoginDate >= 2024-06-01T10:30:00+02:00 AND LastLoginDate < 2024-06-03T00:00:00.000Z",
            ["u1", "u2"],
        ),
        ("(Alias = 'u1' OR Alias = 'u2') AND IsActive = true", ["u1", "u2"]),
        ("Name = 'First4 Last4'", ["u4"]),
        ("FirstName = 'Ada' OR LastName = 'O\\'Brien'", ["aadmin"]),
        ("CreatedDate < LAST_N_DAYS:30", ["aadmin", "integ", "u1", "u2", "u3", "u4", "u5", "u6"]),
    ],
)
def test_where_semantics(sf, where, expected):
    records = sf.query_all(f"SELECT Alias FROM User WHERE {where} ORDER BY Alias")["records"]

    assert [r["Alias"] for r in records] == expected


def test_semi_join(sf, ids):
    query = (
        "SELECT Username FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment "
        "WHERE PermissionSet.IsOwnedByProfile = false) ORDER BY Username"
    )

    assert [r["Username"] for r in sf.query(query)["records"]] == [
        "integration@acme.test",
        "user1@acme.test",
        "user2@acme.test",
    ]


def test_order_by_multi_key_nulls_last_limit_offset(sf):
    query = "SELECT Alias FROM User ORDER BY UserRole.Name DESC NULLS LAST, Alias DESC LIMIT 5 OFFSET 1"
    records = sf.query(query)["records"]

    # Sales Rep (u5, u3, u1), CEO (aadmin), then no role (u6, u4, u2, integ); skip one, take five.
    assert [r["Alias"] for r in records] == ["u3", "u1", "aadmin", "u6", "u4"]


def test_count_forms(sf):
    assert sf.query("SELECT COUNT() FROM User WHERE IsActive = true") == {
        "totalSize": 7,
        "done": True,
        "records": [],
    }
    assert sf.query("SELECT COUNT(Id), COUNT(UserRoleId) cnt FROM User")["records"] == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 8, "cnt": 4},
    ]


def test_invalid_field_message(sf):
    item = _error(lambda: sf.query("SELECT Id, Foo__x FROM User"))

    assert item == {
        "errorCode": "INVALID_FIELD",
        "message": "\nSELECT Id, Foo__x FROM User\n           ^\nERROR at Row:1:Column:12\n"
        f"No such column 'Foo__x' on entity 'User'. {_FIELD_HINT}",
    }


def test_bad_relationship_message(sf):
    item = _error(lambda: sf.query("SELECT Owner.Name FROM User"))

    assert item["errorCode"] == "INVALID_FIELD"
    assert item["message"].startswith(
        "\nSELECT Owner.Name FROM User\n       ^\nERROR at Row:1:Column:8\n"
        "Didn't understand relationship 'Owner' in field path."
    )


def test_invalid_type_message(sf):
    item = _error(lambda: sf.query("SELECT Id FROM Account"))

    assert item == {
        "errorCode": "INVALID_TYPE",
        "message": "\nSELECT Id FROM Account\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Account' is not supported. If you are attempting to use a custom object, be sure to "
        "append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
        "appropriate names.",
    }


@pytest.mark.parametrize(
    ("query", "code", "detail", "column"),
    [
        (
            "SELECT Id FROM User WHERE IsActive = true AND Alias = 'a' OR Alias = 'b'",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
            59,
        ),
        ("SELECT Id FROM User WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'", 26),
        (
            "SELECT Id FROM User WHERE LastName = 'O'Brien'",
            "MALFORMED_QUERY",
            "unexpected token: 'Brien'",
            41,
        ),
        (
            "SELECT Id FROM User WHERE CreatedDate > 2021-08-11 12:52:08",
            "MALFORMED_QUERY",
            "unexpected token: '12'",
            52,
        ),
        (
            "SELECT Id FROM User WHERE Id = 'abc'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: abc",
            32,
        ),
        (
            "SELECT Id FROM User WHERE IsActive = 'true'",
            "INVALID_FIELD",
            "value of filter criterion for field 'IsActive' must be of type boolean and should not be "
            "enclosed in quotes",
            38,
        ),
        (
            "SELECT Id FROM User ORDER BY Id LIMIT 10 OFFSET 2001",
            "NUMBER_OUTSIDE_VALID_RANGE",
            "Maximum SOQL offset allowed is 2000",
            42,
        ),
    ],
)
def test_query_errors(sf, query, code, detail, column):
    item = _error(lambda: sf.query(query))

    assert item["errorCode"] == code
    assert item["message"].endswith(f"ERROR at Row:1:Column:{column}\n{detail}")


def test_territory_objects_absent_when_etm_is_off(local_org, sf):
    local_org.control.set_switches(territory_management=False)

    item = _error(lambda: sf.query("SELECT Id FROM Territory2"))
    assert item["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Territory2' is not supported." in item["message"]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Territory2.describe()


def test_territory_query_like_the_connector(sf, ids):
    query = (
        "SELECT Name, Territory2ModelId, ParentTerritory2Id, Id FROM Territory2 WHERE Territory2ModelId IN "
        "(SELECT Id FROM Territory2Model WHERE State = 'Active') ORDER BY Id"
    )

    assert sorted(r["Name"] for r in sf.query(query)["records"]) == ["EMEA", "UK"]


@pytest.mark.parametrize("total", [2000, 2001])
def test_paging_at_the_batch_boundary(local_org, org_data, total):
    local_org.control.load_fixture(_with_regular_groups(org_data, total))
    sf = direct_client(local_org, client_credentials_token(local_org))

    first = sf.query("SELECT Id, Name FROM Group WHERE Type = 'Regular'")

    assert first["totalSize"] == total
    assert len(first["records"]) == 2000
    if total == 2000:
        assert first["done"] is True and "nextRecordsUrl" not in first
        return
    assert first["done"] is False
    assert re.fullmatch(r"/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-2000", first["nextRecordsUrl"])
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (second["totalSize"], second["done"], len(second["records"])) == (2001, True, 1)
    assert "nextRecordsUrl" not in second
    everything = sf.query_all("SELECT Id FROM Group WHERE Type = 'Regular'")
    assert len({r["Id"] for r in everything["records"]}) == 2001


@pytest.mark.parametrize(
    ("asked", "pages"), [(500, [500, 500, 500, 500, 1]), (50, [200] * 10 + [1]), (5000, [2000, 1])]
)
def test_batch_size_is_clamped(local_org, org_data, asked, pages):
    local_org.control.load_fixture(_with_regular_groups(org_data, 2001))
    sf = direct_client(local_org, client_credentials_token(local_org))
    headers = {"Sforce-Query-Options": f"batchSize={asked}"}

    page = sf.query("SELECT Id FROM Group WHERE Type = 'Regular'", headers=headers)
    sizes = [len(page["records"])]
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True, headers=headers)
        sizes.append(len(page["records"]))

    assert sizes == pages


def test_locators_belong_to_their_session(local_org, org_data):
    local_org.control.load_fixture(_with_regular_groups(org_data, 2001))
    first_client = direct_client(local_org, client_credentials_token(local_org))
    other_client = direct_client(local_org, client_credentials_token(local_org))
    first = first_client.query("SELECT Id FROM Group")

    for client, locator in [
        (other_client, first["nextRecordsUrl"]),
        (first_client, "/services/data/v59.0/query/01g0000000000AAAAA-2000"),
    ]:
        item = _error(lambda c=client, u=locator: c.query_more(u, identifier_is_url=True))
        assert item == {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}


def test_query_all_sees_deleted_rows(admin_sf, ids):
    admin_sf.PermissionSetGroupComponent.delete(ids["psgc_1"])

    live = admin_sf.query("SELECT Id FROM PermissionSetGroupComponent")
    everything = admin_sf.query_all(
        "SELECT Id, IsDeleted FROM PermissionSetGroupComponent", include_deleted=True
    )
    assert live["totalSize"] == 1
    assert sorted((r["Id"], r["IsDeleted"]) for r in everything["records"]) == sorted(
        [(ids["psgc_1"], True), (ids["psgc_2"], False)]
    )


def test_child_subquery_is_null_when_empty(sf, ids):
    query = (
        f"SELECT Username, (SELECT PermissionSet.Name FROM PermissionSetAssignments WHERE "
        "PermissionSet.IsOwnedByProfile = false) FROM User "
        f"WHERE Id IN ('{ids['user_1']}', '{ids['user_3']}') ORDER BY Username"
    )
    records = sf.query(query)["records"]

    assert records[0]["PermissionSetAssignments"]["totalSize"] == 1
    assert records[0]["PermissionSetAssignments"]["records"][0]["PermissionSet"]["Name"] == "Sales_Ops"
    assert records[1]["PermissionSetAssignments"] is None


def test_fifteen_character_ids_match_and_answers_use_eighteen(sf, ids):
    records = sf.query(f"SELECT Id FROM User WHERE Id = '{ids['user_1'][:15]}'")["records"]

    assert [r["Id"] for r in records] == [ids["user_1"]]


def test_group_by_with_counts(sf, ids):
    query = (
        "SELECT Profile.Name, COUNT(Id) users, COUNT_DISTINCT(UserRoleId) FROM User "
        "GROUP BY Profile.Name ORDER BY Profile.Name"
    )

    assert sf.query(query)["records"] == [
        {
            "attributes": {"type": "AggregateResult"},
            "Name": "Minimum Access - API Only Integrations",
            "users": 1,
            "expr1": 0,
        },
        {"attributes": {"type": "AggregateResult"}, "Name": "Standard User", "users": 6, "expr1": 1},
        {"attributes": {"type": "AggregateResult"}, "Name": "System Administrator", "users": 1, "expr1": 1},
    ]


def test_ungrouped_field_in_aggregate_query(sf):
    item = _error(lambda: sf.query("SELECT Alias, COUNT(Id) FROM User GROUP BY ProfileId"))

    assert item["errorCode"] == "MALFORMED_QUERY"
    assert item["message"].endswith("Field must be grouped or aggregated: Alias")


def test_org_can_answer_shorter_pages_than_asked(local_org, org_data):
    local_org.control.load_fixture(_with_regular_groups(org_data, 400))
    local_org.control.set_switches(page_size_cap=197)
    sf = direct_client(local_org, client_credentials_token(local_org))

    first = sf.query("SELECT Id FROM Group WHERE Type = 'Regular'")
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)

    assert (len(first["records"]), first["nextRecordsUrl"][-4:]) == (197, "-197")
    assert (len(rest["records"]), rest["done"]) == (197, False)
    assert len(sf.query_all("SELECT Id FROM Group WHERE Type = 'Regular'")["records"]) == 400


def test_aggregate_results_cannot_be_continued(local_org, org_data):
    local_org.control.load_fixture(_with_regular_groups(org_data, 2001))
    sf = direct_client(local_org, client_credentials_token(local_org))

    first = sf.query("SELECT Name, COUNT(Id) FROM Group WHERE Type = 'Regular' GROUP BY Name")
    item = _error(lambda: sf.query_more(first["nextRecordsUrl"], identifier_is_url=True))

    assert (first["done"], len(first["records"])) == (False, 2000)
    assert item["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert item["message"].startswith("Aggregate query does not support queryMore()")
