"""Normalization: staged Salesforce records become resources, entitlements, direct grants and the
entitlement edges that derived grants follow.

Objects that can be large (users, memberships, assignments) are read and written in chunks; only the
small setup objects (roles, profiles, permission sets, territories) are held whole, as lookups.
The fixed point of derived grants is computed in the warehouse (``include/sql/derive_grants.sql``).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesforce_access import warehouse
from salesforce_access.extract import ROLE_PICKLIST
from salesforce_access.settings import SyncOptions

log = logging.getLogger(__name__)

PORTAL_USER_TYPES = frozenset({"PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "CspLitePortal"})
SERVICE_USER_TYPES = frozenset({"AutomatedProcess", "CloudIntegrationUser"})
PRINCIPAL_TYPE_BY_PREFIX = {"005": "user", "00G": "group"}

GROUP_SUFFIXES = {
    "Role": " (role)",
    "RoleAndSubordinates": " (role and subordinates)",
    "RoleAndSubordinatesInternal": " (role and internal subordinates)",
    "Territory": " (territory)",
    "TerritoryAndSubordinates": " (territory and subordinates)",
    "Manager": " (manager)",
    "ManagerAndSubordinatesInternal": " (manager and subordinates)",
}
ROLE_GROUP_TYPES = {"Role": ("self", None), "RoleAndSubordinates": ("tree", None)}
ROLE_GROUP_TYPES["RoleAndSubordinatesInternal"] = ("tree", "internal")
TERRITORY_GROUP_TYPES = {"Territory": "self", "TerritoryAndSubordinates": "tree"}

RESOURCE_COLUMNS = [
    "sync_id",
    "org_id",
    "resource_type",
    "resource_id",
    "display_name",
    "description",
    "parent_resource_type",
    "parent_resource_id",
    "attributes",
    "login",
    "email",
    "status",
    "account_type",
    "user_type",
    "last_login_at",
    "profile_id",
    "role_id",
]
ENTITLEMENT_COLUMNS = [
    "sync_id",
    "org_id",
    "entitlement_id",
    "resource_type",
    "resource_id",
    "slug",
    "display_name",
    "description",
    "grantable_to",
]
GRANT_COLUMNS = [
    "sync_id",
    "org_id",
    "grant_id",
    "entitlement_id",
    "resource_type",
    "resource_id",
    "principal_type",
    "principal_id",
    "is_direct",
    "sources",
    "source_record_id",
    "expires_at",
]
EDGE_COLUMNS = ["sync_id", "src_entitlement_id", "dst_entitlement_id", "principal_filter"]


def entitlement_id(resource_type: str, resource_id: str, slug: str) -> str:
    return f"{resource_type}:{resource_id}:{slug}"


def grant_id(entitlement: str, principal_type: str, principal_id: str) -> str:
    return f"{entitlement}:{principal_type}:{principal_id}"


@dataclass
class NormalizeResult:
    """Rows written per table and records set aside, with why, for the run's coverage record."""

    rows: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": dict(self.rows), "skipped": dict(self.skipped)}


@dataclass
class Lookups:
    """The small setup objects every chunk of the large ones is joined against.

    Known shortcoming: roles, profiles, permission sets, territories and the ids of frozen users are held
    whole (thousands of rows even in large orgs). Should an org's setup objects outgrow a worker's memory,
    these joins move into the warehouse like the derived grants did.
    """

    roles: dict[str, dict] = field(default_factory=dict)
    role_children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    profiles: dict[str, dict] = field(default_factory=dict)
    permission_sets: dict[str, dict] = field(default_factory=dict)
    territories: dict[str, dict] = field(default_factory=dict)
    territory_children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    frozen_user_ids: set[str] = field(default_factory=set)

    def subtree(self, children: dict[str, list[str]], root: str) -> list[str]:
        seen, stack = [], [root]
        visited = set()
        while stack:
            node = stack.pop()
            if node in visited:
                continue  # a corrupt hierarchy with a loop must not hang the sync
            visited.add(node)
            seen.append(node)
            stack.extend(children.get(node, ()))
        return seen


class Normalizer:
    """Turns one sync's staged records into staged warehouse rows."""

    def __init__(
        self, conn, *, sync_id: str, org_id: str, schema: str, options: SyncOptions, chunk_rows: int = 20000
    ):
        self.conn = conn
        self.sync_id = sync_id
        self.org_id = org_id
        self.schema = schema
        self.options = options
        self.chunk_rows = chunk_rows
        self.result = NormalizeResult()
        self.lookups = Lookups()

    # -- plumbing ---------------------------------------------------------------------------------

    def records(self, sobject: str) -> Iterator[pd.DataFrame]:
        """Yield the staged records of one object as flattened DataFrames (``Profile.UserLicense.Name``)."""
        query = (
            f'SELECT record FROM "{self.schema}".stage_records '
            "WHERE sync_id = %(sync_id)s AND sobject = %(sobject)s ORDER BY record_id"
        )
        for rows in warehouse.read_chunks(
            self.conn, query, {"sync_id": self.sync_id, "sobject": sobject}, chunk_rows=self.chunk_rows
        ):
            records = [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]
            yield pd.json_normalize(records)

    def all_records(self, sobject: str) -> list[dict]:
        frames = list(self.records(sobject))
        if not frames:
            return []
        return (
            pd.concat(frames, ignore_index=True)
            .astype(object)
            .where(lambda f: f.notna(), None)
            .to_dict("records")
        )

    def write(self, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
        if frame.empty:
            return
        frame = frame.assign(sync_id=self.sync_id)
        if "org_id" in columns:
            frame = frame.assign(org_id=self.org_id)
        frame = frame.reindex(columns=columns).astype(object).where(lambda f: f.notna(), None)
        with self.conn.cursor() as cursor:
            count = warehouse.copy_frame(cursor, f'"{self.schema}".stage_{table}', frame)
        self.result.rows[table] += count

    def skip(self, reason: str, record_ids: list[str]) -> None:
        if not record_ids:
            return
        self.result.skipped[reason] += len(record_ids)
        log.warning("Skipped %s record(s): %s; first ids: %s", len(record_ids), reason, record_ids[:5])

    # -- the whole pass -----------------------------------------------------------------------------

    def run(self, resource_types: set[str]) -> NormalizeResult:
        self.load_lookups(resource_types)

        self.users()
        self.roles()
        self.profiles()
        self.permission_sets()
        self.permission_set_groups()
        self.groups(territories_synced="territory" in resource_types)
        if "connected_application" in resource_types:
            self.connected_applications()
        if "territory" in resource_types:
            self.territories()

        log.info(
            "Normalized sync %s: rows %s, skipped %s",
            self.sync_id,
            dict(self.result.rows),
            dict(self.result.skipped),
        )
        return self.result

    def load_lookups(self, resource_types: set[str]) -> None:
        lookups = self.lookups
        for role in self.all_records("UserRole"):
            lookups.roles[role["Id"]] = role
            if role.get("ParentRoleId"):
                lookups.role_children[role["ParentRoleId"]].append(role["Id"])
        lookups.profiles = {p["Id"]: p for p in self.all_records("Profile")}
        lookups.permission_sets = {p["Id"]: p for p in self.all_records("PermissionSet")}
        if "territory" in resource_types:
            active_models = {
                m["Id"] for m in self.all_records("Territory2Model") if m.get("State") == "Active"
            }
            for territory in self.all_records("Territory2"):
                if territory.get("Territory2ModelId") not in active_models:
                    continue
                lookups.territories[territory["Id"]] = territory
            for territory in lookups.territories.values():
                parent = territory.get("ParentTerritory2Id")
                if parent in lookups.territories:
                    lookups.territory_children[parent].append(territory["Id"])
        for frame in self.records("UserLogin"):
            lookups.frozen_user_ids.update(frame.loc[frame["IsFrozen"].astype(bool), "UserId"])

    def ordinary_permission_set(self, permission_set_id: str | None) -> bool:
        permission_set = self.lookups.permission_sets.get(permission_set_id or "")
        return bool(permission_set) and _is_ordinary_permission_set(permission_set)

    # -- users --------------------------------------------------------------------------------------

    def users(self) -> None:
        for frame in self.records("User"):
            frame = _with_columns(
                frame,
                [
                    "FirstName",
                    "LastName",
                    "Email",
                    "UserType",
                    "LastLoginDate",
                    "UserRoleId",
                    "ProfileId",
                    "Profile.UserLicense.LicenseDefinitionKey",
                ],
            )
            user_type = frame["UserType"].fillna("").astype(str)
            self.skip("User with empty UserType", frame.loc[user_type == "", "Id"].tolist())
            keep = user_type != ""
            if not self.options.sync_non_standard_users:
                keep &= user_type == "Standard"
            if not self.options.sync_deactivated_users:
                keep &= frame["IsActive"].astype(bool)
            frame = frame.loc[keep]
            if frame.empty:
                continue

            last_login = pd.to_datetime(frame["LastLoginDate"], utc=True, format="ISO8601", errors="coerce")
            unparsed = frame["LastLoginDate"].notna() & last_login.isna()
            self.skip(
                "User.LastLoginDate not a Salesforce datetime (stored as null)",
                frame.loc[unparsed, "Id"].tolist(),
            )

            display = (
                frame["FirstName"].fillna("").astype(str).str.strip()
                + " "
                + frame["LastName"].fillna("").astype(str).str.strip()
            ).str.strip()
            display = display.where(display != "", frame["Username"])
            active = frame["IsActive"].astype(bool)
            frozen = frame["Id"].isin(self.lookups.frozen_user_ids)
            license_key = frame["Profile.UserLicense.LicenseDefinitionKey"].fillna("").astype(str)
            service = (
                frame["UserType"].isin(SERVICE_USER_TYPES)
                | license_key.str.startswith("PID_DigitalAgent")
                | license_key.str.endswith("_INTEGRATION_USER")
                | (license_key == "PID_XOrg_Proxy_User")
            )
            resources = pd.DataFrame(
                {
                    "resource_type": "user",
                    "resource_id": frame["Id"],
                    "display_name": display,
                    "attributes": _attributes(frame),
                    "login": frame["Username"],
                    "email": frame["Username"] if self.options.username_as_email else frame["Email"],
                    "status": (active & ~frozen).map({True: "enabled", False: "disabled"}),
                    "account_type": service.map({True: "service", False: "human"}),
                    "user_type": frame["UserType"],
                    "last_login_at": last_login.map(lambda ts: None if pd.isna(ts) else ts.isoformat()),
                    "profile_id": frame["ProfileId"],
                    "role_id": frame["UserRoleId"],
                }
            )
            self.write("resources", resources, RESOURCE_COLUMNS)

            for column, resource_type in (("UserRoleId", "role"), ("ProfileId", "profile")):
                holders = frame.loc[frame[column].notna()]
                self.write(
                    "grants",
                    _grants(resource_type, holders[column], "assigned", "user", holders["Id"], holders["Id"]),
                    GRANT_COLUMNS,
                )

    # -- roles and profiles -------------------------------------------------------------------------

    def roles(self) -> None:
        roles = list(self.lookups.roles.values())
        if not roles:
            return
        frame = pd.json_normalize(roles)
        frame = _with_columns(frame, ["ParentRoleId"])
        resources = pd.DataFrame(
            {
                "resource_type": "role",
                "resource_id": frame["Id"],
                "display_name": frame["Name"],
                "parent_resource_type": frame["ParentRoleId"].notna().map({True: "role", False: None}),
                "parent_resource_id": frame["ParentRoleId"],
                "attributes": _attributes(frame),
            }
        )
        self.write("resources", resources, RESOURCE_COLUMNS)
        self.write(
            "entitlements",
            _entitlements(
                "role",
                frame["Id"],
                "assigned",
                frame["Name"] + " Role",
                "Has the " + frame["Name"] + " role",
                ["user"],
            ),
            ENTITLEMENT_COLUMNS,
        )

    def profiles(self) -> None:
        profiles = list(self.lookups.profiles.values())
        if not profiles:
            return
        frame = _with_columns(pd.json_normalize(profiles), ["Description"])
        # A profile's system permissions live on the permission set it owns; show them on the profile.
        owned = {
            permission_set["ProfileId"]: {
                key: value for key, value in permission_set.items() if key.startswith("Permissions")
            }
            for permission_set in self.lookups.permission_sets.values()
            if permission_set.get("IsOwnedByProfile") and permission_set.get("ProfileId")
        }
        attributes = [{**record, **owned.get(record["Id"], {})} for record in _attributes(frame).tolist()]
        resources = pd.DataFrame(
            {
                "resource_type": "profile",
                "resource_id": frame["Id"],
                "display_name": frame["Name"],
                "description": frame["Description"],
                "attributes": pd.Series(attributes, index=frame.index),
            }
        )
        self.write("resources", resources, RESOURCE_COLUMNS)
        self.write(
            "entitlements",
            _entitlements(
                "profile",
                frame["Id"],
                "assigned",
                frame["Name"] + " Profile",
                "Has the " + frame["Name"] + " profile",
                ["user"],
            ),
            ENTITLEMENT_COLUMNS,
        )

    # -- permission sets and permission set groups ---------------------------------------------------

    def permission_sets(self) -> None:
        ordinary = [p for p in self.lookups.permission_sets.values() if _is_ordinary_permission_set(p)]
        if ordinary:
            frame = _with_columns(pd.json_normalize(ordinary), ["Description", "Label"])
            label = frame["Label"].where(frame["Label"].notna(), frame["Name"])
            resources = pd.DataFrame(
                {
                    "resource_type": "permission",
                    "resource_id": frame["Id"],
                    "display_name": label,
                    "description": frame["Description"],
                    "attributes": _attributes(frame),
                }
            )
            self.write("resources", resources, RESOURCE_COLUMNS)
            self.write(
                "entitlements",
                _entitlements(
                    "permission",
                    frame["Id"],
                    "assigned",
                    label + " Permission Set",
                    "Assigned the " + label + " permission set",
                    ["user", "permission_set_group"],
                ),
                ENTITLEMENT_COLUMNS,
            )

        for frame in self.records("PermissionSetAssignment"):
            frame = _with_columns(frame, ["ExpirationDate", "PermissionSetGroupId"])
            wanted = (
                frame["PermissionSetId"].map(self.ordinary_permission_set)
                & frame["PermissionSetGroupId"].isna()
            )
            frame = frame.loc[wanted]
            self.write(
                "grants",
                _grants(
                    "permission",
                    frame["PermissionSetId"],
                    "assigned",
                    "user",
                    frame["AssigneeId"],
                    frame["Id"],
                    expires_at=frame["ExpirationDate"],
                ),
                GRANT_COLUMNS,
            )

    def permission_set_groups(self) -> None:
        groups = self.all_records("PermissionSetGroup")
        if groups:
            frame = _with_columns(pd.json_normalize(groups), ["Description", "MasterLabel"])
            label = frame["MasterLabel"].where(frame["MasterLabel"].notna(), frame["DeveloperName"])
            resources = pd.DataFrame(
                {
                    "resource_type": "permission_set_group",
                    "resource_id": frame["Id"],
                    "display_name": label,
                    "description": frame["Description"],
                    "attributes": _attributes(frame),
                }
            )
            self.write("resources", resources, RESOURCE_COLUMNS)
            self.write(
                "entitlements",
                _entitlements(
                    "permission_set_group",
                    frame["Id"],
                    "member",
                    label + " Permission Set Group Member",
                    "Member of the " + label + " permission set group",
                    ["user"],
                ),
                ENTITLEMENT_COLUMNS,
            )

        for frame in self.records("PermissionSetGroupComponent"):
            frame = frame.loc[frame["PermissionSetId"].map(self.ordinary_permission_set)]
            self.write(
                "grants",
                _grants(
                    "permission",
                    frame["PermissionSetId"],
                    "assigned",
                    "permission_set_group",
                    frame["PermissionSetGroupId"],
                    frame["Id"],
                ),
                GRANT_COLUMNS,
            )
            self.write(
                "entitlement_edges",
                _edges(
                    "permission_set_group:" + frame["PermissionSetGroupId"] + ":member",
                    "permission:" + frame["PermissionSetId"] + ":assigned",
                ),
                EDGE_COLUMNS,
            )

        for frame in self.records("PermissionSetGroupAssignment"):
            frame = _with_columns(frame, ["ExpirationDate"])
            self.write(
                "grants",
                _grants(
                    "permission_set_group",
                    frame["PermissionSetGroupId"],
                    "member",
                    "user",
                    frame["AssigneeId"],
                    frame["Id"],
                    expires_at=frame["ExpirationDate"],
                ),
                GRANT_COLUMNS,
            )

    # -- groups -------------------------------------------------------------------------------------

    def groups(self, *, territories_synced: bool) -> None:
        for frame in self.records("Group"):
            frame = _with_columns(frame, ["Name", "RelatedId", "Related.Name", "DeveloperName"])
            computed = frame["Type"].isin(set(GROUP_SUFFIXES) | {"Organization"})
            missing_related = computed & frame["Related.Name"].isna() & (frame["Type"] != "Organization")
            self.skip(
                "Group of a computed type without its related record (named from the group)",
                frame.loc[missing_related, "Id"].tolist(),
            )

            base = frame["Related.Name"].where(frame["Related.Name"].notna(), frame["Name"])
            base = base.where(base.notna() & (base != ""), frame["DeveloperName"]).fillna(frame["Id"])
            display = base + frame["Type"].map(GROUP_SUFFIXES).fillna("")
            display = display.where(frame["Type"] != "Organization", "All Internal Users")
            resources = pd.DataFrame(
                {
                    "resource_type": "group",
                    "resource_id": frame["Id"],
                    "display_name": display,
                    "attributes": _attributes(frame),
                }
            )
            self.write("resources", resources, RESOURCE_COLUMNS)
            self.write(
                "entitlements",
                _entitlements(
                    "group",
                    frame["Id"],
                    "member",
                    display + " Group Member",
                    "Member of the " + display + " group",
                    ["user", "group"],
                ),
                ENTITLEMENT_COLUMNS,
            )
            self.write(
                "entitlement_edges", self.computed_group_edges(frame, territories_synced), EDGE_COLUMNS
            )

        for frame in self.records("GroupMember"):
            prefix = frame["UserOrGroupId"].astype(str).str[:3]
            principal_type = prefix.map(PRINCIPAL_TYPE_BY_PREFIX)
            self.skip(
                "GroupMember whose member is neither a user nor a group",
                frame.loc[principal_type.isna(), "Id"].tolist(),
            )
            frame, principal_type = (
                frame.loc[principal_type.notna()],
                principal_type.loc[principal_type.notna()],
            )
            self.write(
                "grants",
                _grants(
                    "group", frame["GroupId"], "member", principal_type, frame["UserOrGroupId"], frame["Id"]
                ),
                GRANT_COLUMNS,
            )
            nested = frame.loc[principal_type == "group"]
            self.write(
                "entitlement_edges",
                _edges(
                    "group:" + nested["UserOrGroupId"] + ":member", "group:" + nested["GroupId"] + ":member"
                ),
                EDGE_COLUMNS,
            )

    def computed_group_edges(self, frame: pd.DataFrame, territories_synced: bool) -> pd.DataFrame:
        """Edges for the members Salesforce computes itself: role, territory and organization groups."""
        src, dst, filters = [], [], []
        for group_id, group_type, related_id in zip(
            frame["Id"], frame["Type"], frame["RelatedId"], strict=True
        ):
            target = f"group:{group_id}:member"
            if group_type in ROLE_GROUP_TYPES and related_id in self.lookups.roles:
                scope, principal_filter = ROLE_GROUP_TYPES[group_type]
                roles = (
                    [related_id]
                    if scope == "self"
                    else self.lookups.subtree(self.lookups.role_children, related_id)
                )
                for role_id in roles:
                    (
                        src.append(f"role:{role_id}:assigned"),
                        dst.append(target),
                        filters.append(principal_filter),
                    )
            elif (
                group_type in TERRITORY_GROUP_TYPES
                and territories_synced
                and related_id in self.lookups.territories
            ):
                children = self.lookups.territory_children
                territories = (
                    [related_id]
                    if TERRITORY_GROUP_TYPES[group_type] == "self"
                    else self.lookups.subtree(children, related_id)
                )
                for territory_id in territories:
                    src.append(f"territory:{territory_id}:member"), dst.append(target), filters.append(None)
            elif group_type == "Organization":
                for profile_id in self.lookups.profiles:
                    (
                        src.append(f"profile:{profile_id}:assigned"),
                        dst.append(target),
                        filters.append("standard"),
                    )
        return pd.DataFrame(
            {"src_entitlement_id": src, "dst_entitlement_id": dst, "principal_filter": filters}
        )

    # -- connected apps -----------------------------------------------------------------------------

    def connected_applications(self) -> None:
        apps = self.all_records("ConnectedApplication")
        if apps:
            frame = pd.json_normalize(apps)
            resources = pd.DataFrame(
                {
                    "resource_type": "connected_application",
                    "resource_id": frame["Id"],
                    "display_name": frame["Name"],
                    "attributes": _attributes(frame),
                }
            )
            self.write("resources", resources, RESOURCE_COLUMNS)
            self.write(
                "entitlements",
                _entitlements(
                    "connected_application",
                    frame["Id"],
                    "access",
                    frame["Name"] + " Access",
                    "Can use the " + frame["Name"] + " connected app",
                    ["user"],
                ),
                ENTITLEMENT_COLUMNS,
            )

        for frame in self.records("SetupEntityAccess"):
            sources = frame["ParentId"].map(self.access_source)
            self.skip(
                "SetupEntityAccess whose permission set is not synced",
                frame.loc[sources.isna(), "Id"].tolist(),
            )
            frame, sources = frame.loc[sources.notna()], sources.loc[sources.notna()]
            self.write(
                "entitlement_edges",
                _edges(sources, "connected_application:" + frame["SetupEntityId"] + ":access"),
                EDGE_COLUMNS,
            )

    def access_source(self, permission_set_id: str) -> str | None:
        """The entitlement whose holders get what a permission set gives: itself, its profile or its group."""
        permission_set = self.lookups.permission_sets.get(permission_set_id)
        if permission_set is None:
            return None
        if permission_set.get("IsOwnedByProfile") and permission_set.get("ProfileId"):
            return f"profile:{permission_set['ProfileId']}:assigned"
        if permission_set.get("Type") == "Group" and permission_set.get("PermissionSetGroupId"):
            return f"permission_set_group:{permission_set['PermissionSetGroupId']}:member"
        return f"permission:{permission_set_id}:assigned"

    # -- territories --------------------------------------------------------------------------------

    def territories(self) -> None:
        territories = self.lookups.territories
        role_values = {
            record["Value"]: bool(record.get("IsActive")) for record in self.all_records(ROLE_PICKLIST)
        }
        roles_offered = {value for value, active in role_values.items() if active}

        for frame in self.records("UserTerritory2Association"):
            frame = _with_columns(frame, ["RoleInTerritory2"])
            frame = frame.loc[frame["Territory2Id"].isin(territories.keys())]
            self.write(
                "grants",
                _grants("territory", frame["Territory2Id"], "member", "user", frame["UserId"], frame["Id"]),
                GRANT_COLUMNS,
            )
            with_role = frame.loc[frame["RoleInTerritory2"].notna() & (frame["RoleInTerritory2"] != "")]
            roles_offered.update(with_role["RoleInTerritory2"])
            self.write(
                "grants",
                _grants(
                    "territory",
                    with_role["Territory2Id"],
                    "role:" + with_role["RoleInTerritory2"],
                    "user",
                    with_role["UserId"],
                    with_role["Id"],
                ),
                GRANT_COLUMNS,
            )

        if not territories:
            return
        frame = _with_columns(
            pd.json_normalize(list(territories.values())), ["Description", "ParentTerritory2Id"]
        )
        parent = frame["ParentTerritory2Id"].where(frame["ParentTerritory2Id"].isin(territories.keys()), None)
        resources = pd.DataFrame(
            {
                "resource_type": "territory",
                "resource_id": frame["Id"],
                "display_name": frame["Name"],
                "description": frame["Description"],
                "parent_resource_type": parent.notna().map({True: "territory", False: None}),
                "parent_resource_id": parent,
                "attributes": _attributes(frame),
            }
        )
        self.write("resources", resources, RESOURCE_COLUMNS)
        entitlements = [
            _entitlements(
                "territory",
                frame["Id"],
                "member",
                frame["Name"] + " Territory Member",
                "Member of the " + frame["Name"] + " territory",
                ["user"],
            )
        ]
        for value in sorted(roles_offered):
            entitlements.append(
                _entitlements(
                    "territory",
                    frame["Id"],
                    f"role:{value}",
                    frame["Name"] + f" Territory {value}",
                    f"Has the {value} role in the " + frame["Name"] + " territory",
                    ["user"],
                )
            )
        self.write("entitlements", pd.concat(entitlements, ignore_index=True), ENTITLEMENT_COLUMNS)


def _is_ordinary_permission_set(permission_set: dict) -> bool:
    return not permission_set.get("IsOwnedByProfile") and permission_set.get("Type") != "Group"


def _with_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Add the columns a record shape lacks (json_normalize drops keys no record in the chunk had)."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        frame = frame.assign(**{column: None for column in missing})
    return frame


def _attributes(frame: pd.DataFrame) -> pd.Series:
    clean = frame.astype(object).where(frame.notna(), None)
    return pd.Series(clean.to_dict("records"), index=frame.index)


def _entitlements(resource_type, resource_ids, slug, display, description, grantable_to) -> pd.DataFrame:
    slug_series = slug if isinstance(slug, pd.Series) else pd.Series(slug, index=resource_ids.index)
    return pd.DataFrame(
        {
            "entitlement_id": resource_type + ":" + resource_ids + ":" + slug_series,
            "resource_type": resource_type,
            "resource_id": resource_ids,
            "slug": slug_series,
            "display_name": display,
            "description": description,
            "grantable_to": [grantable_to] * len(resource_ids),
        }
    )


def _grants(
    resource_type, resource_ids, slug, principal_type, principal_ids, source_record_ids, expires_at=None
):
    if len(resource_ids) == 0:
        return pd.DataFrame(columns=GRANT_COLUMNS)
    entitlement = resource_type + ":" + resource_ids.astype(str) + ":" + slug
    frame = pd.DataFrame(
        {
            "entitlement_id": entitlement,
            "resource_type": resource_type,
            "resource_id": resource_ids,
            "principal_type": principal_type,
            "principal_id": principal_ids,
            "is_direct": True,
            "source_record_id": source_record_ids,
        }
    )
    frame["grant_id"] = frame["entitlement_id"] + ":" + frame["principal_type"] + ":" + frame["principal_id"]
    frame["sources"] = [[] for _ in range(len(frame))]
    if expires_at is not None:
        parsed = pd.to_datetime(expires_at, utc=True, format="ISO8601", errors="coerce")
        frame["expires_at"] = parsed.map(lambda ts: None if pd.isna(ts) else ts.isoformat())
    return frame


def _edges(src, dst, principal_filter=None) -> pd.DataFrame:
    return pd.DataFrame(
        {"src_entitlement_id": src, "dst_entitlement_id": dst, "principal_filter": principal_filter}
    )
