"""Extraction: one SOQL stream per Salesforce object, page by page, into the warehouse staging table.

Each resource type reads each junction object once (never one query per resource), so a sync costs a
few API calls per 2,000 rows whatever the org's shape.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from salesforce_access import warehouse
from salesforce_access.client import QueryCursorLost, SalesforceClient
from salesforce_access.errors import FeatureNotEnabledError, SalesforceAccessError
from salesforce_access.salesforce_errors import TERRITORIES_OFF
from salesforce_access.settings import RESOURCE_TYPES, SyncOptions

log = logging.getLogger(__name__)

ROLE_PICKLIST = "PicklistValue.RoleInTerritory2"

USER_FIELDS = (
    "Id, Username, FirstName, LastName, Email, Alias, IsActive, UserType, ProfileId, UserRoleId, "
    "ManagerId, FederationIdentifier, LastLoginDate, CreatedDate, Profile.Name, "
    "Profile.UserLicense.Name, Profile.UserLicense.LicenseDefinitionKey"
)
PERMISSION_SET_FIELDS = (
    "Id, Name, Label, Description, Type, IsOwnedByProfile, ProfileId, PermissionSetGroupId, "
    "NamespacePrefix, PermissionsApiEnabled, PermissionsModifyAllData, PermissionsViewAllData, "
    "PermissionsManageUsers, PermissionsCustomizeApplication, PermissionsManageRoles, PermissionsAuthorApex"
)


@dataclass(frozen=True)
class ObjectQuery:
    """One SOQL statement whose rows are staged under ``sobject``."""

    sobject: str
    soql: str


def queries_for(resource_type: str, options: SyncOptions) -> list[ObjectQuery]:
    """Return the SOQL a resource type needs; an empty list when the options leave it out."""
    if resource_type == "user":
        filters = []
        if not options.sync_non_standard_users:
            filters.append("UserType = 'Standard'")
        if not options.sync_deactivated_users:
            filters.append("IsActive = true")
        where = f" WHERE {' AND '.join(filters)}" if filters else ""
        return [
            ObjectQuery("User", f"SELECT {USER_FIELDS} FROM User{where} ORDER BY Id"),
            # Only frozen logins matter; reading those alone costs one call instead of one per 250 users.
            ObjectQuery(
                "UserLogin", "SELECT Id, UserId, IsFrozen FROM UserLogin WHERE IsFrozen = true ORDER BY Id"
            ),
        ]
    if resource_type == "group":
        return [
            ObjectQuery(
                "Group",
                "SELECT Id, Name, DeveloperName, Type, RelatedId, Related.Name FROM Group ORDER BY Id",
            ),
            ObjectQuery("GroupMember", "SELECT Id, GroupId, UserOrGroupId FROM GroupMember ORDER BY Id"),
        ]
    if resource_type == "role":
        return [
            ObjectQuery(
                "UserRole",
                "SELECT Id, Name, DeveloperName, ParentRoleId, PortalType FROM UserRole ORDER BY Id",
            )
        ]
    if resource_type == "permission":
        return [
            ObjectQuery("PermissionSet", f"SELECT {PERMISSION_SET_FIELDS} FROM PermissionSet ORDER BY Id"),
            # Profile-owned assignments mirror User.ProfileId and group assignments are read by the
            # permission_set_group type: both are left out here.
            ObjectQuery(
                "PermissionSetAssignment",
                "SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, ExpirationDate "
                "FROM PermissionSetAssignment "
                "WHERE PermissionSetGroupId = null AND PermissionSet.IsOwnedByProfile = false ORDER BY Id",
            ),
        ]
    if resource_type == "permission_set_group":
        return [
            ObjectQuery(
                "PermissionSetGroup",
                "SELECT Id, DeveloperName, MasterLabel, Description, Status, NamespacePrefix "
                "FROM PermissionSetGroup ORDER BY Id",
            ),
            ObjectQuery(
                "PermissionSetGroupComponent",
                "SELECT Id, PermissionSetGroupId, PermissionSetId FROM PermissionSetGroupComponent "
                "ORDER BY Id",
            ),
            ObjectQuery(
                "PermissionSetGroupAssignment",
                "SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, ExpirationDate "
                "FROM PermissionSetAssignment WHERE PermissionSetGroupId != null ORDER BY Id",
            ),
        ]
    if resource_type == "profile":
        return [
            ObjectQuery(
                "Profile",
                "SELECT Id, Name, Description, UserType, UserLicenseId, UserLicense.Name, "
                "UserLicense.LicenseDefinitionKey FROM Profile ORDER BY Id",
            )
        ]
    if resource_type == "connected_application":
        if not options.sync_connected_apps:
            return []
        return [
            ObjectQuery("ConnectedApplication", "SELECT Id, Name FROM ConnectedApplication ORDER BY Id"),
            ObjectQuery(
                "SetupEntityAccess",
                "SELECT Id, ParentId, SetupEntityId, SetupEntityType FROM SetupEntityAccess "
                "WHERE SetupEntityType = 'ConnectedApplication' ORDER BY Id",
            ),
        ]
    if resource_type == "territory":
        if not options.sync_territories:
            return []
        return [
            ObjectQuery(
                "Territory2Model", "SELECT Id, Name, DeveloperName, State FROM Territory2Model ORDER BY Id"
            ),
            ObjectQuery(
                "Territory2",
                "SELECT Id, Name, DeveloperName, Description, ParentTerritory2Id, Territory2ModelId, "
                "Territory2TypeId FROM Territory2 "
                "WHERE Territory2ModelId IN (SELECT Id FROM Territory2Model WHERE State = 'Active') "
                "ORDER BY Id",
            ),
            ObjectQuery(
                "UserTerritory2Association",
                "SELECT Id, UserId, Territory2Id, RoleInTerritory2 FROM UserTerritory2Association "
                "WHERE Territory2Id IN (SELECT Id FROM Territory2 WHERE Territory2Model.State = 'Active') "
                "ORDER BY Id",
            ),
        ]
    raise ValueError(f"Unknown resource type {resource_type!r}; expected one of {RESOURCE_TYPES}.")


def skipped_reason(resource_type: str, options: SyncOptions) -> str | None:
    """Say why a resource type is not synced with these options, for the run's coverage record."""
    if resource_type == "connected_application" and not options.sync_connected_apps:
        return "sync_connected_apps is false"
    if resource_type == "territory" and not options.sync_territories:
        return "sync_territories is false"
    return None


def extract_resource_type(
    client: SalesforceClient,
    resource_type: str,
    options: SyncOptions,
    *,
    sync_id: str,
    warehouse_conn_id: str,
    schema: str,
    batch_size: int = 2000,
) -> dict[str, int]:
    """Stage every record a resource type needs; return rows staged per object.

    Raises:
        FeatureNotEnabledError: territories are requested but the org has no Enterprise Territory Management.
        SalesforceAccessError: any other Salesforce failure, translated.
    """
    counts: dict[str, int] = {}
    for query in queries_for(resource_type, options):
        try:
            counts[query.sobject] = _stage_query(
                client, query, sync_id, warehouse_conn_id, schema, batch_size
            )
        except SalesforceAccessError as exc:
            if resource_type == "territory" and exc.error_code == "INVALID_TYPE":
                raise FeatureNotEnabledError(
                    f"sync_territories is true, but {TERRITORIES_OFF}",
                    error_code="INVALID_TYPE",
                ) from exc
            raise

    if resource_type == "territory" and options.sync_territories:
        counts[ROLE_PICKLIST] = _stage_role_picklist(client, sync_id, warehouse_conn_id, schema)

    log.info("Extracted %s: %s (%s API calls so far)", resource_type, counts, client.api_calls)
    return counts


def _stage_query(
    client: SalesforceClient,
    query: ObjectQuery,
    sync_id: str,
    warehouse_conn_id: str,
    schema: str,
    batch_size: int,
) -> int:
    table = f'"{schema}".stage_records'
    for attempt in (1, 2):
        staged = 0
        try:
            with warehouse.connect(warehouse_conn_id) as conn, conn.cursor() as cursor:
                # A retried task or a restarted query starts from a clean slate for this object.
                cursor.execute(
                    f"DELETE FROM {table} WHERE sync_id = %s AND sobject = %s", (sync_id, query.sobject)
                )
                for page in client.query_pages(query.soql, batch_size=batch_size, context=query.sobject):
                    rows = ((sync_id, query.sobject, rec["Id"], json.dumps(_plain(rec))) for rec in page)
                    staged += warehouse.copy_rows(
                        cursor, table, ("sync_id", "sobject", "record_id", "record"), rows
                    )
                    log.debug("Staged %s %s rows so far", staged, query.sobject)
            return staged
        except QueryCursorLost:
            if attempt == 2:
                raise
            log.warning(
                "Query cursor for %s was lost after %s rows; restarting the query", query.sobject, staged
            )
    raise AssertionError("unreachable")


def _stage_role_picklist(client: SalesforceClient, sync_id: str, warehouse_conn_id: str, schema: str) -> int:
    describe = client.describe("UserTerritory2Association")
    values = []
    for describe_field in describe.get("fields", []):
        if describe_field.get("name") == "RoleInTerritory2":
            values = describe_field.get("picklistValues") or []
    rows = [
        (
            sync_id,
            ROLE_PICKLIST,
            value["value"],
            json.dumps({"Value": value["value"], "IsActive": value["active"]}),
        )
        for value in values
    ]
    table = f'"{schema}".stage_records'
    with warehouse.connect(warehouse_conn_id) as conn, conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE sync_id = %s AND sobject = %s", (sync_id, ROLE_PICKLIST))
        return warehouse.copy_rows(cursor, table, ("sync_id", "sobject", "record_id", "record"), rows)


def _plain(record: dict) -> dict:
    """Drop Salesforce's ``attributes`` entries, keeping nested parents as plain dicts."""
    return {
        key: (_plain(value) if isinstance(value, dict) else value)
        for key, value in record.items()
        if key != "attributes"
    }
