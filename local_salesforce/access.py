"""What the calling user may do, from the effective system permissions of the permission sets it holds.

Which permission guards which object follows the field guide (§5.2, §7): setup objects that describe
access need "View Setup and Configuration" or "Manage Users", UserLogin needs "Manage Users",
connected-app data needs "Customize Application", and DML on users, assignments and memberships
needs "Manage Users" (assignments also accept "Assign Permission Sets"). "Modify All Data" passes
every check, as in Salesforce.
"""

from __future__ import annotations

from local_salesforce.errors import ApiError

READ_REQUIRES: dict[str, tuple[str, ...]] = {
    "UserLogin": ("PermissionsManageUsers",),
    "PermissionSetAssignment": ("PermissionsViewSetup", "PermissionsManageUsers"),
    "PermissionSetGroupComponent": ("PermissionsViewSetup", "PermissionsManageUsers"),
    "ConnectedApplication": ("PermissionsCustomizeApplication",),
    "SetupEntityAccess": ("PermissionsCustomizeApplication",),
}
WRITE_REQUIRES: dict[str, tuple[str, ...]] = {
    "User": ("PermissionsManageUsers", "PermissionsManageInternalUsers"),
    "UserLogin": ("PermissionsManageUsers",),
    "PermissionSetAssignment": ("PermissionsAssignPermissionSets", "PermissionsManageUsers"),
    "GroupMember": ("PermissionsManageUsers",),
    "Group": ("PermissionsManageUsers",),
    "UserRole": ("PermissionsManageRoles", "PermissionsManageUsers"),
    "UserTerritory2Association": ("PermissionsManageTerritories", "PermissionsManageUsers"),
    "Territory2": ("PermissionsManageTerritories",),
    "Territory2Model": ("PermissionsManageTerritories",),
    "Territory2Type": ("PermissionsManageTerritories",),
    "PermissionSet": ("PermissionsManageProfilesPermissionsets",),
    "PermissionSetGroup": ("PermissionsManageProfilesPermissionsets",),
    "PermissionSetGroupComponent": ("PermissionsManageProfilesPermissionsets",),
    "Profile": ("PermissionsManageProfilesPermissionsets",),
    "SetupEntityAccess": ("PermissionsManageProfilesPermissionsets",),
}
# The cross-reference a refused DML names, per object (Salesforce names the record the caller can't use).
CROSS_REFERENCE_FIELD = {
    "PermissionSetAssignment": "PermissionSetId",
    "GroupMember": "GroupId",
    "UserTerritory2Association": "Territory2Id",
    "PermissionSetGroupComponent": "PermissionSetGroupId",
    "SetupEntityAccess": "ParentId",
}


def _allowed(permissions: frozenset[str], needed: tuple[str, ...]) -> bool:
    return "PermissionsModifyAllData" in permissions or any(p in permissions for p in needed)


def can_read(permissions: frozenset[str], object_name: str) -> bool:
    needed = READ_REQUIRES.get(object_name)
    return needed is None or _allowed(permissions, needed)


def check_read(permissions: frozenset[str], object_name: str) -> None:
    if not can_read(permissions, object_name):
        raise ApiError(403, "INSUFFICIENT_ACCESS", "insufficient access rights on object id")


def check_write(permissions: frozenset[str], object_name: str, record: dict | None) -> None:
    """Raise the error Salesforce gives a caller without the permission to change this object."""
    needed = WRITE_REQUIRES.get(object_name)
    if needed is None or _allowed(permissions, needed):
        return
    reference = CROSS_REFERENCE_FIELD.get(object_name)
    if reference and record is not None and record.get(reference):
        raise ApiError(
            400,
            "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
            f"insufficient access rights on cross-reference id: {record[reference]}",
            [],
        )
    raise ApiError(400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", [])
