"""Records of an unexpected shape are handled one by one: logged with their id, counted, never fatal."""

from __future__ import annotations

import json

from local_salesforce.ids import checksum
from salesforce_access import sync, warehouse
from salesforce_access.settings import OrgConfig, PipelineSettings, SyncOptions
from tests.sync.conftest import SCHEMA


def sfid(prefix: str, number: int) -> str:
    body = f"{prefix}{number:012d}"
    return body + checksum(body)


ORG = sfid("00D", 1)
USER_OK, USER_NO_TYPE, USER_BAD_DATE = sfid("005", 1), sfid("005", 2), sfid("005", 3)
PROFILE, ROLE_GROUP, PUBLIC_GROUP = sfid("00e", 1), sfid("00G", 1), sfid("00G", 2)


def staged(sync_id: str) -> list[tuple]:
    user = {
        "Username": "u@x.example",
        "IsActive": True,
        "ProfileId": PROFILE,
        "UserRoleId": None,
        "Profile": {"UserLicense": {"LicenseDefinitionKey": "SFDC"}},
    }
    records = {
        "User": [
            {
                **user,
                "Id": USER_OK,
                "FirstName": "Ok",
                "LastName": "User",
                "UserType": "Standard",
                "LastLoginDate": "2026-01-02T03:04:05.000-0800",
            },
            # No UserType key at all, not even null.
            {**user, "Id": USER_NO_TYPE, "FirstName": "No", "LastName": "Type", "LastLoginDate": None},
            {
                **user,
                "Id": USER_BAD_DATE,
                "FirstName": "Bad",
                "LastName": "Date",
                "UserType": "Standard",
                "LastLoginDate": "yesterday",
            },
        ],
        "Profile": [{"Id": PROFILE, "Name": "Standard User", "UserLicense": None}],
        "Group": [
            # A role group whose related role Salesforce answers as a null relationship.
            {
                "Id": ROLE_GROUP,
                "Name": None,
                "DeveloperName": "Lost_Role",
                "Type": "Role",
                "RelatedId": None,
                "Related": None,
            },
            {
                "Id": PUBLIC_GROUP,
                "Name": "Everyone",
                "DeveloperName": "Everyone",
                "Type": "Regular",
                "RelatedId": None,
                "Related": None,
            },
        ],
        "GroupMember": [
            {"Id": sfid("011", 1), "GroupId": PUBLIC_GROUP, "UserOrGroupId": USER_OK},
            # A member of a type the pipeline does not model (a lead, say).
            {"Id": sfid("011", 2), "GroupId": PUBLIC_GROUP, "UserOrGroupId": sfid("00Q", 1)},
        ],
    }
    return [
        (sync_id, sobject, record["Id"], json.dumps(record))
        for sobject, rows in records.items()
        for record in rows
    ]


def test_odd_records_are_counted_and_the_rest_lands(pg, capfd, all_logs):
    settings = PipelineSettings(orgs=(OrgConfig("default", "salesforce_default", SyncOptions()),))
    with pg.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    sync_id = sync.start_sync(settings, settings.orgs[0], SyncOptions(), dag_id="test", dag_run_id="shapes")
    with warehouse.connect("salesforce_warehouse") as conn, conn.cursor() as cursor:
        warehouse.copy_rows(
            cursor, f"{SCHEMA}.stage_records", ("sync_id", "sobject", "record_id", "record"), staged(sync_id)
        )

    result = sync.normalize(settings, SyncOptions(), sync_id, ORG)
    logged = "".join(capfd.readouterr()) + "\n".join(all_logs)

    assert result["skipped"] == {
        "User with empty UserType": 1,
        "User.LastLoginDate not a Salesforce datetime (stored as null)": 1,
        "Group of a computed type without its related record (named from the group)": 1,
        "GroupMember whose member is neither a user nor a group": 1,
    }
    assert USER_NO_TYPE in logged and USER_BAD_DATE in logged and ROLE_GROUP in logged
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT resource_id, display_name, "
            "to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
            f"FROM {SCHEMA}.stage_resources "
            "WHERE sync_id = %s AND resource_type IN ('user', 'group') ORDER BY 1",
            (sync_id,),
        )
        assert cursor.fetchall() == [
            (USER_OK, "Ok User", "2026-01-02 11:04"),
            (USER_BAD_DATE, "Bad Date", None),
            (ROLE_GROUP, "Lost_Role (role)", None),
            (PUBLIC_GROUP, "Everyone", None),
        ]
        cursor.execute(
            f"SELECT grant_id, is_direct FROM {SCHEMA}.stage_grants WHERE sync_id = %s ORDER BY 1", (sync_id,)
        )
        assert cursor.fetchall() == [
            (f"group:{PUBLIC_GROUP}:member:user:{USER_OK}", True),
            (f"profile:{PROFILE}:assigned:user:{USER_OK}", True),
            (f"profile:{PROFILE}:assigned:user:{USER_BAD_DATE}", True),
        ]
