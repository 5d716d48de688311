"""Reflect a provisioning change in the warehouse at once, for the one user it touched.

The user's User record and junction rows are read back from Salesforce and staged under the request's
marker; the sync's own normalizer builds the user's resource row and role and profile grants from them,
so a refreshed user looks exactly as the next sync will show it. ``include/sql/provisioning_refresh.sql``
does the rest set-based: direct grants, derived grants through the published entitlement edges to a fixed
point, and the swap of the user's rows in ``grants``, ``resources`` and ``grant_history``.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from salesforce_access import warehouse
from salesforce_access.extract import USER_FIELDS
from salesforce_access.provisioning_base import query, soql_text

if TYPE_CHECKING:
    from salesforce_access.client import SalesforceClient
    from salesforce_access.settings import OrgConfig, PipelineSettings

log = logging.getLogger(__name__)

STAGE_COLUMNS = ("sync_id", "sobject", "record_id", "record")


def marker(request_id: str) -> str:
    """The sync id that rows written by a provisioning request carry (in grants, resources, grant_history)."""
    return f"provisioning:{request_id}"


def org_is_synced(settings: PipelineSettings, org_id: str) -> bool:
    with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{settings.schema}".orgs',))
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f'SELECT 1 FROM "{settings.schema}".orgs WHERE org_id = %s', (org_id,))
        return cursor.fetchone() is not None


def read_user_records(client: SalesforceClient, user_id: str, org: OrgConfig) -> dict[str, list[dict]]:
    """The Salesforce records a user's grants come from, as a sync reads them, for this user only."""
    user = soql_text(user_id)
    records = {
        "User": query(
            client, f"SELECT {USER_FIELDS} FROM User WHERE Id = {user}", context="reading the user"
        ),
        "UserLogin": query(
            client,
            f"SELECT Id, UserId, IsFrozen FROM UserLogin WHERE UserId = {user}",
            context="reading UserLogin",
        ),
        "GroupMember": query(
            client,
            f"SELECT Id, GroupId, UserOrGroupId FROM GroupMember WHERE UserOrGroupId = {user} ORDER BY Id",
            context="reading group memberships",
        ),
        "PermissionSetAssignment": query(
            client,
            "SELECT Id, AssigneeId, PermissionSetId, PermissionSetGroupId, ExpirationDate FROM "
            f"PermissionSetAssignment WHERE AssigneeId = {user} ORDER BY Id",
            context="reading permission set assignments",
        ),
        "UserTerritory2Association": [],
    }
    if org.options.sync_territories:
        records["UserTerritory2Association"] = query(
            client,
            "SELECT Id, UserId, Territory2Id, RoleInTerritory2 FROM UserTerritory2Association WHERE UserId "
            f"= {user} ORDER BY Id",
            context="reading territory memberships",
        )
    return records


def refresh_user(
    settings: PipelineSettings,
    org: OrgConfig,
    org_id: str,
    user_id: str,
    request_id: str,
    records: dict[str, list[dict]],
) -> dict[str, int]:
    """Replace the user's rows in the published tables with what Salesforce holds now; return row counts."""
    from salesforce_access.normalize import Normalizer

    sync_id = marker(request_id)
    schema = settings.schema
    counts: dict[str, int] = {}
    with warehouse.connect(settings.warehouse_conn_id) as conn:
        warehouse.ensure_schema(conn, schema)
        with conn.cursor() as cursor:
            rows = (
                (sync_id, sobject, record["Id"], json.dumps(record))
                for sobject, sobject_records in records.items()
                if sobject != "UserLogin"
                for record in sobject_records
            )
            warehouse.copy_rows(cursor, f'"{schema}".stage_records', STAGE_COLUMNS, rows)

        normalizer = Normalizer(conn, sync_id=sync_id, org_id=org_id, schema=schema, options=org.options)
        normalizer.lookups.frozen_user_ids = {r["UserId"] for r in records["UserLogin"] if r.get("IsFrozen")}
        normalizer.users()

        params = {"sync_id": sync_id, "org_id": org_id, "user_id": user_id}
        with conn.cursor() as cursor:
            for name, statement in warehouse.sql_statements("provisioning_refresh", schema).items():
                cursor.execute(statement, params)
                if name.startswith(("history_", "grants_", "user_")) and cursor.rowcount >= 0:
                    counts[name] = cursor.rowcount
    log.info("Refreshed the warehouse rows of user %s in org %s: %s", user_id, org_id, counts)
    return counts
