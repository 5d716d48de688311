"""Grant and revoke, one entitlement kind at a time: how each is checked, read and written.

Each kind resolves the entitlement against the org (does it exist, can this user hold it, can it be
provisioned at all) and plans from the current state, so a repeated grant finds the access already
there and a repeated revoke finds it already gone. User fields are changed with a PATCH of that one
field; a fetched record is never written back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from salesforce_access.errors import ProvisioningRejected
from salesforce_access.provisioning_base import Operation, Plan, Request, checked_id, query, soql_text

if TYPE_CHECKING:
    from salesforce_access.client import SalesforceClient
    from salesforce_access.settings import OrgConfig

log = logging.getLogger(__name__)

EXPECTED_OBJECT = {
    "group": "Group",
    "role": "UserRole",
    "permission": "PermissionSet",
    "permission_set_group": "PermissionSetGroup",
    "profile": "Profile",
    "territory": "Territory2",
    "connected_application": "ConnectedApplication",
}
EXPECTED_SLUGS = {
    "group": "member",
    "role": "assigned",
    "permission": "assigned",
    "permission_set_group": "member",
    "profile": "assigned",
    "territory": "member or role:<value>",
    "connected_application": "access",
}
EDITABLE_GROUP_TYPES = ("Regular", "Queue")
PORTAL_USER_TYPES = ("PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "CspLitePortal")


def parse_entitlement(entitlement_id: str) -> tuple[str, str, str]:
    """Split ``<resource_type>:<id>:<slug>`` and check its parts; return (type, 18-char id, slug).

    Raises:
        ProvisioningRejected: an unknown type, a bad id, or a slug the type does not have.
    """
    parts = entitlement_id.split(":", 2)
    if len(parts) != 3 or parts[0] not in EXPECTED_OBJECT:
        raise ProvisioningRejected(
            f"Parameter entitlement_id: {entitlement_id!r} is not an entitlement id. The form is "
            "<resource_type>:<salesforce id>:<slug>, e.g. permission:0PS...:assigned, with resource_type "
            f"one of {', '.join(EXPECTED_OBJECT)}; copy it from the warehouse's entitlements table.",
            parameter="entitlement_id",
            error_code="INVALID_PARAMETER",
        )
    resource_type, raw_id, slug = parts
    record_id = checked_id(raw_id, "entitlement_id", expected=EXPECTED_OBJECT[resource_type])
    territory_role = resource_type == "territory" and slug.startswith("role:") and len(slug) > len("role:")
    if slug != EXPECTED_SLUGS[resource_type].split(" ")[0] and not territory_role:
        raise ProvisioningRejected(
            f"Parameter entitlement_id: {entitlement_id!r} has slug {slug!r}, but a {resource_type} offers "
            f"{EXPECTED_SLUGS[resource_type]}.",
            parameter="entitlement_id",
            error_code="INVALID_PARAMETER",
        )
    return resource_type, record_id, slug


def _unknown(entitlement_id: str, sobject: str, record_id: str) -> ProvisioningRejected:
    return ProvisioningRejected(
        f"Parameter entitlement_id: {entitlement_id!r} names {sobject} {record_id}, which does not exist in "
        "this org (deleted, or an id of another org). Check the id against the org the salesforce_conn_id "
        "parameter selects.",
        parameter="entitlement_id",
        error_code="UNKNOWN_ENTITLEMENT",
    )


def _user_type_mismatch(entitlement_id: str, user: dict, why: str) -> ProvisioningRejected:
    return ProvisioningRejected(
        f"Parameter user_id: user {user['Username']!r} ({user['Id']}) has UserType {user.get('UserType')!r} "
        f"and cannot hold {entitlement_id!r}: {why}",
        parameter="user_id",
        error_code="USER_TYPE_MISMATCH",
    )


def _one(client: SalesforceClient, soql: str, context: str) -> dict[str, Any] | None:
    rows = query(client, soql, context=context)
    return rows[0] if rows else None


# -- resolve: the rules a parameter schema cannot express -----------------------------------------------


def resolve(
    client: SalesforceClient, request: Request, user: dict[str, Any], org: OrgConfig
) -> dict[str, Any]:
    """Check that the entitlement exists and this user can hold it; return what planning needs.

    Raises:
        ProvisioningRejected: the entitlement is unknown, read-only or not for this user; the message says
            which and what to request instead.
    """
    assert request.entitlement_id
    resource_type, record_id, slug = parse_entitlement(request.entitlement_id)
    resolver = _RESOLVERS[resource_type]
    target = resolver(client, request, user, org, record_id, slug)
    return {"resource_type": resource_type, "record_id": record_id, "slug": slug, **target}


def _resolve_group(client, request, user, org, record_id, slug) -> dict:
    group = _one(
        client,
        "SELECT Id, Name, DeveloperName, Type, RelatedId, Related.Name FROM Group WHERE Id = "
        f"{soql_text(record_id)}",
        "reading the group",
    )
    if group is None:
        raise _unknown(request.entitlement_id, "Group", record_id)
    related_name = (group.get("Related") or {}).get("Name")
    name = group.get("Name") or (
        f"{related_name} ({group['Type']})" if related_name else group["DeveloperName"]
    )
    if group["Type"] not in EDITABLE_GROUP_TYPES:
        related = group.get("RelatedId")
        instead = {
            "Role": f"role:{related}:assigned",
            "RoleAndSubordinates": f"role:{related}:assigned (or a role below it)",
            "RoleAndSubordinatesInternal": f"role:{related}:assigned (or a role below it)",
            "Territory": f"territory:{related}:member",
            "TerritoryAndSubordinates": f"territory:{related}:member (or a territory below it)",
            "Organization": "a profile of user type Standard: every internal user is a member",
        }.get(group["Type"])
        advice = f" Request {instead} instead." if instead else ""
        raise ProvisioningRejected(
            f"Parameter entitlement_id: group {name!r} ({record_id}) is of type {group['Type']}. Salesforce "
            "computes the members of such groups itself; only public groups (Regular) and queues take "
            f"members.{advice}",
            parameter="entitlement_id",
            error_code="NOT_PROVISIONABLE",
        )
    return {"name": name, "group_type": group["Type"]}


def _resolve_role(client, request, user, org, record_id, slug) -> dict:
    role = _one(
        client,
        f"SELECT Id, Name, PortalType FROM UserRole WHERE Id = {soql_text(record_id)}",
        "reading the role",
    )
    if role is None:
        raise _unknown(request.entitlement_id, "UserRole", record_id)
    portal_role = (role.get("PortalType") or "None") != "None"
    if portal_role and user.get("UserType") not in PORTAL_USER_TYPES:
        raise _user_type_mismatch(
            request.entitlement_id, user, f"role {role['Name']!r} is a {role['PortalType']} portal role."
        )
    if not portal_role and request.action == "grant" and user.get("UserType") != "Standard":
        raise _user_type_mismatch(
            request.entitlement_id,
            user,
            f"role {role['Name']!r} is an internal role, for Standard users only.",
        )
    return {"name": role["Name"]}


def _resolve_permission(client, request, user, org, record_id, slug) -> dict:
    permission_set = _one(
        client,
        "SELECT Id, Name, Label, Type, IsOwnedByProfile, ProfileId, PermissionSetGroupId, LicenseId FROM "
        f"PermissionSet WHERE Id = {soql_text(record_id)}",
        "reading the permission set",
    )
    if permission_set is None:
        raise _unknown(request.entitlement_id, "PermissionSet", record_id)
    label = permission_set.get("Label") or permission_set["Name"]
    if permission_set.get("IsOwnedByProfile"):
        raise ProvisioningRejected(
            f"Parameter entitlement_id: permission set {label!r} ({record_id}) belongs to profile "
            f"{permission_set.get('ProfileId')}; Salesforce assigns it with the profile. Request "
            f"profile:{permission_set.get('ProfileId')}:assigned instead.",
            parameter="entitlement_id",
            error_code="NOT_PROVISIONABLE",
        )
    if permission_set.get("Type") == "Group":
        group_id = permission_set.get("PermissionSetGroupId")
        raise ProvisioningRejected(
            f"Parameter entitlement_id: permission set {label!r} ({record_id}) is the aggregate of a "
            "permission set group; Salesforce assigns it with the group. Request "
            f"permission_set_group:{group_id}:member instead.",
            parameter="entitlement_id",
            error_code="NOT_PROVISIONABLE",
        )
    license_id = permission_set.get("LicenseId") or ""
    user_license = (user.get("Profile") or {}).get("UserLicenseId")
    if (
        request.action == "grant"
        and license_id.startswith("100")
        and user_license
        and license_id != user_license
    ):
        user_license_name = ((user.get("Profile") or {}).get("UserLicense") or {}).get("Name")
        raise _user_type_mismatch(
            request.entitlement_id,
            user,
            f"permission set {label!r} needs user license {license_id}, and the user's profile has license "
            f"{user_license_name!r} ({user_license}).",
        )
    return {"name": label}


def _resolve_permission_set_group(client, request, user, org, record_id, slug) -> dict:
    group = _one(
        client,
        "SELECT Id, DeveloperName, MasterLabel, Status FROM PermissionSetGroup WHERE Id = "
        f"{soql_text(record_id)}",
        "reading the permission set group",
    )
    if group is None:
        raise _unknown(request.entitlement_id, "PermissionSetGroup", record_id)
    return {"name": group.get("MasterLabel") or group["DeveloperName"]}


def _resolve_profile(client, request, user, org, record_id, slug) -> dict:
    profile = _profile(client, record_id)
    if profile is None:
        raise _unknown(request.entitlement_id, "Profile", record_id)
    user_type, profile_type = user.get("UserType"), profile.get("UserType")
    # Salesforce moves users between profiles of their kind, and upgrades Chatter users to Standard.
    if (
        request.action == "grant"
        and profile_type != user_type
        and (user_type, profile_type)
        != (
            "CsnOnly",
            "Standard",
        )
    ):
        raise _user_type_mismatch(
            request.entitlement_id,
            user,
            f"profile {profile['Name']!r} is for users of type {profile_type!r}.",
        )
    target: dict[str, Any] = {"name": profile["Name"]}
    if request.action == "revoke":
        target.update(_least_privileged_profile(client, request, profile, org))
    return target


def _profile(client: SalesforceClient, where_id: str) -> dict | None:
    return _one(
        client,
        "SELECT Id, Name, UserType, UserLicenseId, UserLicense.Name FROM Profile WHERE Id = "
        f"{soql_text(where_id)}",
        "reading the profile",
    )


def _least_privileged_profile(
    client: SalesforceClient, request: Request, profile: dict, org: OrgConfig
) -> dict:
    """Salesforce has no "no profile": a revoked profile is swapped for the mapped least-privileged one."""
    license_name = (profile.get("UserLicense") or {}).get("Name")
    mapping = org.options.license_profile_map
    mapped = mapping.get(license_name or "")
    if not mapped:
        raise ProvisioningRejected(
            f"Parameter entitlement_id: revoking profile {profile['Name']!r} moves the user to the "
            f"least-privileged profile of its license {license_name!r}, but the org {org.name!r} has no "
            f"license_profile_map entry for {license_name!r} (entries: {mapping or 'none'}). Add one to its "
            f'options in the orgs config, e.g. license_profile_map: {{"{license_name}": "<profile name>"}}.',
            parameter="entitlement_id",
            error_code="NO_LEAST_PRIVILEGED_PROFILE",
        )
    candidates = query(
        client,
        f"SELECT Id, Name, UserLicenseId FROM Profile WHERE Name = {soql_text(mapped)} ORDER BY Id",
        context="reading the least-privileged profile",
    )
    same_license = [p for p in candidates if p.get("UserLicenseId") == profile.get("UserLicenseId")]
    chosen = (same_license or candidates or [None])[0]
    if chosen is None:
        raise ProvisioningRejected(
            f"Parameter entitlement_id: license_profile_map of org {org.name!r} maps license "
            f"{license_name!r} to profile {mapped!r}, which does not exist in this org. Fix the profile "
            "name in the orgs config.",
            parameter="entitlement_id",
            error_code="NO_LEAST_PRIVILEGED_PROFILE",
        )
    if chosen["Id"] == profile["Id"]:
        raise ProvisioningRejected(
            f"Parameter entitlement_id: profile {profile['Name']!r} is itself the least-privileged profile "
            f"of license {license_name!r}, so it cannot be revoked; grant the user another profile instead, "
            "or deactivate the user with update_user_status.",
            parameter="entitlement_id",
            error_code="NOT_PROVISIONABLE",
        )
    return {
        "license_name": license_name,
        "fallback_profile_id": chosen["Id"],
        "fallback_profile_name": mapped,
    }


def _resolve_territory(client, request, user, org, record_id, slug) -> dict:
    territory = _one(
        client,
        "SELECT Id, Name, Territory2ModelId, Territory2Model.Name, Territory2Model.State FROM Territory2 "
        f"WHERE Id = {soql_text(record_id)}",
        "reading the territory",
    )
    if territory is None:
        raise _unknown(request.entitlement_id, "Territory2", record_id)
    model = territory.get("Territory2Model") or {}
    if model.get("State") != "Active":
        raise ProvisioningRejected(
            f"Parameter entitlement_id: territory {territory['Name']!r} ({record_id}) belongs to model "
            f"{model.get('Name')!r}, whose state is {model.get('State')!r}; only territories of the active "
            "model are provisioned. Pick the matching territory of the active model.",
            parameter="entitlement_id",
            error_code="NOT_PROVISIONABLE",
        )
    if request.action == "grant" and user.get("UserType") != "Standard":
        raise _user_type_mismatch(
            request.entitlement_id, user, "territories take internal (Standard) users only."
        )
    target: dict[str, Any] = {"name": territory["Name"]}
    if slug.startswith("role:"):
        value = slug.removeprefix("role:")
        active = _active_territory_roles(client)
        if request.action == "grant" and value not in active:
            raise ProvisioningRejected(
                f"Parameter entitlement_id: {value!r} is not an active value of RoleInTerritory2 in this "
                f"org (active: {', '.join(active) or 'none'}). Pick one of those, or activate the value in "
                "Setup > Object Manager > User Territory Association > Role in Territory.",
                parameter="entitlement_id",
                error_code="NOT_PROVISIONABLE",
            )
        target["territory_role"] = value
    return target


def _active_territory_roles(client: SalesforceClient) -> list[str]:
    describe = client.describe("UserTerritory2Association")
    for describe_field in describe.get("fields", []):
        if describe_field.get("name") == "RoleInTerritory2":
            return [v["value"] for v in describe_field.get("picklistValues") or [] if v.get("active")]
    return []


def _resolve_connected_application(client, request, user, org, record_id, slug) -> dict:
    raise ProvisioningRejected(
        f"Parameter entitlement_id: {request.entitlement_id!r} is access to a connected app, which users "
        "get through the profiles, permission sets and permission set groups that open the app; it is "
        "read-only here. Grant one of those instead (the warehouse's entitlement_edges lists them).",
        parameter="entitlement_id",
        error_code="NOT_PROVISIONABLE",
    )


_RESOLVERS = {
    "group": _resolve_group,
    "role": _resolve_role,
    "permission": _resolve_permission,
    "permission_set_group": _resolve_permission_set_group,
    "profile": _resolve_profile,
    "territory": _resolve_territory,
    "connected_application": _resolve_connected_application,
}


# -- plan: the current state against the requested one ------------------------------------------------


def plan(client: SalesforceClient, request: Request, target: dict[str, Any]) -> Plan:
    """Read the current state and list the writes the grant or revoke needs (none when already done)."""
    assert request.user_id
    planner = _PLANNERS[target["resource_type"]]
    result = planner(client, request.action == "grant", request.user_id, target)
    result.user_id = request.user_id
    return result


def _already(grant: bool, record_id: str | None = None) -> Plan:
    return Plan("already_granted" if grant else "already_revoked", record_id=record_id)


def _plan_group(client, grant: bool, user_id: str, target: dict) -> Plan:
    rows = query(
        client,
        f"SELECT Id FROM GroupMember WHERE GroupId = {soql_text(target['record_id'])} AND UserOrGroupId = "
        f"{soql_text(user_id)}",
        context="reading group membership",
    )
    values = {"GroupId": target["record_id"], "UserOrGroupId": user_id}
    if grant:
        if rows:
            return _already(grant, rows[0]["Id"])
        return Plan("granted", [Operation("create", "GroupMember", values=values)])
    if not rows:
        return _already(grant)
    return Plan("revoked", [Operation("delete", "GroupMember", rows[0]["Id"], before=values)], rows[0]["Id"])


def _plan_user_field(field: str, client, grant: bool, user_id: str, target: dict) -> Plan:
    rows = query(
        client, f"SELECT Id, {field} FROM User WHERE Id = {soql_text(user_id)}", context="reading the user"
    )
    current = rows[0][field] if rows else None
    holds = current == target["record_id"]
    if grant == holds:
        return _already(grant, user_id if holds else None)
    if grant:
        new_value = target["record_id"]
    else:
        # A revoked role is cleared; a revoked profile is swapped for the least-privileged one.
        new_value = target.get("fallback_profile_id") if field == "ProfileId" else None
    return Plan(
        "granted" if grant else "revoked",
        [Operation("update", "User", user_id, values={field: new_value}, before={field: current})],
        user_id,
    )


def _plan_role(client, grant, user_id, target) -> Plan:
    return _plan_user_field("UserRoleId", client, grant, user_id, target)


def _plan_profile(client, grant, user_id, target) -> Plan:
    return _plan_user_field("ProfileId", client, grant, user_id, target)


def _plan_assignment(group_field: str | None, client, grant: bool, user_id: str, target: dict) -> Plan:
    if group_field:
        where = f"PermissionSetGroupId = {soql_text(target['record_id'])}"
        values = {"AssigneeId": user_id, "PermissionSetGroupId": target["record_id"]}
    else:
        where = f"PermissionSetId = {soql_text(target['record_id'])} AND PermissionSetGroupId = null"
        values = {"AssigneeId": user_id, "PermissionSetId": target["record_id"]}
    rows = query(
        client,
        f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = {soql_text(user_id)} AND {where}",
        context="reading permission set assignments",
    )
    if grant:
        if rows:
            return _already(grant, rows[0]["Id"])
        return Plan("granted", [Operation("create", "PermissionSetAssignment", values=values)])
    if not rows:
        return _already(grant)
    return Plan(
        "revoked",
        [Operation("delete", "PermissionSetAssignment", rows[0]["Id"], before=values)],
        rows[0]["Id"],
    )


def _plan_permission(client, grant, user_id, target) -> Plan:
    return _plan_assignment(None, client, grant, user_id, target)


def _plan_permission_set_group(client, grant, user_id, target) -> Plan:
    return _plan_assignment("PermissionSetGroupId", client, grant, user_id, target)


def _plan_territory(client, grant: bool, user_id: str, target: dict) -> Plan:
    rows = query(
        client,
        f"SELECT Id, RoleInTerritory2 FROM UserTerritory2Association WHERE UserId = {soql_text(user_id)} "
        f"AND Territory2Id = {soql_text(target['record_id'])}",
        context="reading territory membership",
    )
    association = rows[0] if rows else None
    wanted_role = target.get("territory_role")
    current_role = association.get("RoleInTerritory2") if association else None
    key = {"UserId": user_id, "Territory2Id": target["record_id"]}

    if wanted_role is None:  # membership
        if grant:
            if association:
                return _already(grant, association["Id"])
            return Plan("granted", [Operation("create", "UserTerritory2Association", values=key)])
        if association is None:
            return _already(grant)
        # Leaving the territory also ends any role in it: `before` shows that role.
        before = {**key, "RoleInTerritory2": current_role}
        return Plan(
            "revoked",
            [Operation("delete", "UserTerritory2Association", association["Id"], before=before)],
            association["Id"],
        )

    if grant:
        if association is None:
            values = {**key, "RoleInTerritory2": wanted_role}
            return Plan("granted", [Operation("create", "UserTerritory2Association", values=values)])
        if current_role == wanted_role:
            return _already(grant, association["Id"])
        # One role per association: granting another role replaces it.
        return Plan(
            "granted",
            [
                Operation(
                    "update",
                    "UserTerritory2Association",
                    association["Id"],
                    values={"RoleInTerritory2": wanted_role},
                    before={"RoleInTerritory2": current_role},
                )
            ],
            association["Id"],
        )
    if association is None or current_role != wanted_role:
        if association is not None and current_role:
            log.warning(
                "User %s holds role %r, not %r, in territory %s: nothing to revoke",
                user_id, current_role, wanted_role, target["record_id"],
            )  # fmt: skip
        return _already(grant)
    # A role revoke keeps the membership.
    return Plan(
        "revoked",
        [
            Operation(
                "update",
                "UserTerritory2Association",
                association["Id"],
                values={"RoleInTerritory2": None},
                before={"RoleInTerritory2": current_role},
            )
        ],
        association["Id"],
    )


_PLANNERS = {
    "group": _plan_group,
    "role": _plan_role,
    "permission": _plan_permission,
    "permission_set_group": _plan_permission_set_group,
    "profile": _plan_profile,
    "territory": _plan_territory,
}
