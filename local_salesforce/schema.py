"""The local org's data model, kept as data: every object, field and relationship it serves.

Describe, SOQL resolution, fixture validation and DML validation all read this one table, so they can
never disagree. Field flags follow describe: createable (C), updateable (U), required on create (R,
i.e. not nillable and not defaulted). Every object also gets `Id` and the audit fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from local_salesforce.ids import KEY_PREFIXES

TIME_ZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
    "Pacific/Auckland",
    "GMT",
)
LOCALES = ("en_US", "en_GB", "en_AU", "en_CA", "de_DE", "fr_FR", "es_ES", "it_IT", "ja_JP", "nl_NL", "pt_BR")
LANGUAGES = ("en_US", "en_GB", "de", "fr", "es", "it", "ja", "nl_NL", "pt_BR")
EMAIL_ENCODINGS = (
    "UTF-8",
    "ISO-8859-1",
    "Shift_JIS",
    "ISO-2022-JP",
    "EUC-JP",
    "ks_c_5601-1987",
    "Big5",
    "GB2312",
)
USER_TYPES = (
    "Standard",
    "PowerPartner",
    "CspLitePortal",
    "CustomerSuccess",
    "PowerCustomerSuccess",
    "CsnOnly",
    "Guest",
)
GROUP_TYPES = (
    "Regular",
    "Role",
    "RoleAndSubordinates",
    "RoleAndSubordinatesInternal",
    "Queue",
    "Organization",
    "Manager",
    "ManagerAndSubordinatesInternal",
    "Territory",
    "TerritoryAndSubordinates",
    "AllCustomerPortal",
    "PRMOrganization",
    "CollaborationGroup",
    "Personal",
)
SETUP_ENTITY_TYPES = (
    "ApexClass",
    "ApexPage",
    "ConnectedApplication",
    "CustomPermission",
    "CustomEntityDefinition",
    "TabSet",
    "ServiceProvider",
    "FlowDefinition",
    "ExternalClientApplication",
)
PERMISSIONS = (
    "PermissionsApiEnabled",
    "PermissionsManageUsers",
    "PermissionsModifyAllData",
    "PermissionsViewAllData",
    "PermissionsCustomizeApplication",
    "PermissionsManageRoles",
    "PermissionsAuthorApex",
    "PermissionsViewSetup",
    "PermissionsAssignPermissionSets",
    "PermissionsManageInternalUsers",
    "PermissionsManageProfilesPermissionsets",
    "PermissionsViewAllUsers",
    "PermissionsResetPasswords",
    "PermissionsManageTerritories",
    "PermissionsManageSharing",
    "PermissionsFreezeUsers",
)

TEXT_TYPES = frozenset({"string", "picklist", "email", "textarea", "url", "phone", "multipicklist"})
ID_TYPES = frozenset({"id", "reference"})
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "picklist": "xsd:string",
    "email": "xsd:string",
    "textarea": "xsd:string",
    "url": "xsd:string",
    "phone": "xsd:string",
    "boolean": "xsd:boolean",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "int": "xsd:int",
    "double": "xsd:double",
}


@dataclass(frozen=True)
class Field:
    """One field as describe reports it."""

    name: str
    type: str
    length: int = 0
    createable: bool = False
    updateable: bool = False
    required: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    values: tuple[str, ...] = ()
    restricted: bool = False
    default: object = None
    label: str = ""
    since: float = 0.0  # first API version that has the field; older versions don't know it

    @property
    def nillable(self) -> bool:
        return not self.required and self.type not in ("boolean", "id")

    @property
    def polymorphic(self) -> bool:
        return len(self.reference_to) > 1


@dataclass
class SObject:
    """One sObject: its fields (by canonical name) and what DML it supports."""

    name: str
    label: str
    fields: dict[str, Field]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    feature: str | None = None  # org switch that must be on for the object to exist
    soft_delete: bool = False  # has IsDeleted; deleted rows stay visible to queryAll
    lower: dict[str, Field] = field(default_factory=dict)
    relationships: dict[str, Field] = field(default_factory=dict)  # lower-case relationship name -> field

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES[self.name]

    def field(self, name: str, version: float | None = None) -> Field | None:
        """The field by name, case-insensitively; None when unknown or newer than `version`."""
        found = self.lower.get(name.lower())
        if found is not None and version is not None and found.since > version:
            return None
        return found

    def fields_at(self, version: float) -> list[Field]:
        return [f for f in self.fields.values() if f.since <= version]

    def relationship(self, name: str) -> Field | None:
        return self.relationships.get(name.lower())


_LABELS = {
    "TimeZoneSidKey": "Time Zone",
    "LocaleSidKey": "Locale",
    "EmailEncodingKey": "Email Encoding",
    "LanguageLocaleKey": "Language",
    "UserRoleId": "Role ID",
    "Id": "Record ID",
    "RoleInTerritory2": "Role in Territory",
    "CommunityNickname": "Nickname",
    "FederationIdentifier": "Federation ID",
    "IsActive": "Active",
}


def _label(name: str) -> str:
    """Describe's label: Salesforce's own where it differs from the split API name; lookups end in ' ID'."""
    if name in _LABELS:
        return _LABELS[name]
    suffix = ""
    if name.endswith("Id"):
        name, suffix = name[:-2], " ID"
    name = name.removeprefix("Permissions")
    return (re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name) or name) + suffix


def _f(
    name: str,
    type_: str,
    length: int = 0,
    flags: str = "",
    to: tuple[str, ...] | str = (),
    rel: str | None = None,
    values: tuple[str, ...] = (),
    default: object = None,
    label: str = "",
    since: float = 0.0,
) -> Field:
    """Build a Field; `flags` holds C (createable), U (updateable), R (required), P (restricted picklist)."""
    if isinstance(to, str):
        to = (to,)
    if to and rel is None:
        rel = name[:-2]
    if type_ == "boolean" and default is None:
        default = False
    return Field(
        name=name,
        type=type_,
        length=length,
        createable="C" in flags,
        updateable="U" in flags,
        required="R" in flags,
        reference_to=to,
        relationship_name=rel,
        values=values,
        restricted="P" in flags,
        default=default,
        label=label or _label(name),
        since=since,
    )


def _common(soft_delete: bool) -> list[Field]:
    common = [
        _f("Id", "id", 18),
        _f("CreatedDate", "datetime"),
        _f("CreatedById", "reference", 18, to="User", rel="CreatedBy"),
        _f("LastModifiedDate", "datetime"),
        _f("LastModifiedById", "reference", 18, to="User", rel="LastModifiedBy"),
        _f("SystemModstamp", "datetime"),
    ]
    if soft_delete:
        common.append(_f("IsDeleted", "boolean"))
    return common


def _object(
    name: str,
    fields: list[Field],
    *,
    label: str = "",
    createable: bool = True,
    updateable: bool = True,
    deletable: bool = True,
    feature: str | None = None,
    soft_delete: bool = False,
) -> SObject:
    all_fields = _common(soft_delete) + fields
    obj = SObject(
        name=name,
        label=label or _label(name),
        fields={f.name: f for f in all_fields},
        createable=createable,
        updateable=updateable,
        deletable=deletable,
        feature=feature,
        soft_delete=soft_delete,
    )
    obj.lower = {f.name.lower(): f for f in all_fields}
    obj.relationships = {f.relationship_name.lower(): f for f in all_fields if f.relationship_name}
    return obj


def _permissions(flags: str) -> list[Field]:
    return [_f(name, "boolean", flags=flags) for name in PERMISSIONS]


_CU, _CUR, _CR = "CU", "CUR", "CR"

OBJECTS: dict[str, SObject] = {
    o.name: o
    for o in [
        _object(
            "Organization",
            [
                _f("Name", "string", 80),
                _f("OrganizationType", "picklist", 40),
                _f("IsSandbox", "boolean"),
                _f("InstanceName", "string", 5),
                _f("NamespacePrefix", "string", 15),
                _f("TrialExpirationDate", "datetime"),
                _f("Division", "string", 80),
            ],
            createable=False,
            deletable=False,
        ),
        _object(
            "User",
            [
                _f("Username", "string", 80, _CUR),
                _f("LastName", "string", 80, _CUR),
                _f("FirstName", "string", 40, _CU),
                _f("Name", "string", 121),
                _f("Email", "email", 128, _CUR),
                _f("Alias", "string", 8, _CUR),
                _f("CommunityNickname", "string", 40, _CU),
                _f("IsActive", "boolean", flags=_CU, default=True),
                _f("ProfileId", "reference", 18, _CUR, to="Profile"),
                _f("UserRoleId", "reference", 18, _CU, to="UserRole"),
                _f("UserType", "picklist", 40, values=USER_TYPES),
                _f("FederationIdentifier", "string", 512, _CU),
                _f("EmployeeNumber", "string", 20, _CU),
                _f("Department", "string", 80, _CU),
                _f("Title", "string", 80, _CU),
                _f("Division", "string", 80, _CU),
                _f("CompanyName", "string", 80, _CU),
                _f("ManagerId", "reference", 18, _CU, to="User"),
                _f("TimeZoneSidKey", "picklist", 40, "CURP", values=TIME_ZONES),
                _f("LocaleSidKey", "picklist", 40, "CURP", values=LOCALES),
                _f("EmailEncodingKey", "picklist", 40, "CURP", values=EMAIL_ENCODINGS),
                _f("LanguageLocaleKey", "picklist", 40, "CURP", values=LANGUAGES),
                _f("LastLoginDate", "datetime"),
                _f("LastPasswordChangeDate", "datetime"),
                _f("PasswordExpirationDate", "datetime"),
                _f("NumberOfFailedLogins", "int"),
                _f("IsPortalEnabled", "boolean"),
                _f("ContactId", "reference", 18, "C", to="Contact"),
                _f("AccountId", "reference", 18, to="Account"),
            ],
            deletable=False,
        ),
        _object(
            "UserLogin",
            [
                _f("UserId", "reference", 18, to="User"),
                _f("IsFrozen", "boolean", flags="U"),
                _f("IsPasswordLocked", "boolean", flags="U"),
            ],
            createable=False,
            deletable=False,
        ),
        _object(
            "UserLicense",
            [
                _f("Name", "string", 40),
                _f("MasterLabel", "string", 80),
                _f("LicenseDefinitionKey", "string", 40),
                _f("Status", "picklist", 40, values=("Active", "Disabled")),
                _f("TotalLicenses", "int"),
                _f("UsedLicenses", "int"),
                _f("UsedLicensesLastUpdated", "datetime"),
                _f("MonthlyLoginsEntitlement", "int"),
                _f("MonthlyLoginsUsed", "int"),
            ],
            createable=False,
            updateable=False,
            deletable=False,
        ),
        _object(
            "Profile",
            [
                _f("Name", "string", 255, _CUR),
                _f("UserLicenseId", "reference", 18, _CR, to="UserLicense"),
                _f("UserType", "picklist", 40, values=USER_TYPES),
                _f("Description", "string", 255, _CU),
                _f("IsSsoEnabled", "boolean", flags=_CU),
                *_permissions(_CU),
            ],
            # Profiles are made and removed in Setup or the Metadata API; the REST API can only update them.
            createable=False,
            deletable=False,
        ),
        _object(
            "UserRole",
            [
                _f("Name", "string", 80, _CUR),
                _f("DeveloperName", "string", 80, _CU),
                _f("ParentRoleId", "reference", 18, _CU, to="UserRole"),
                _f("RollupDescription", "string", 80, _CU),
                _f("PortalType", "picklist", 40, values=("None", "CustomerPortal", "Partner")),
                _f("OpportunityAccessForAccountOwner", "picklist", 40, _CU, values=("None", "Read", "Edit")),
                _f("CaseAccessForAccountOwner", "picklist", 40, _CU, values=("None", "Read", "Edit")),
                _f("ForecastUserId", "reference", 18, _CU, to="User"),
            ],
            label="Role",
        ),
        _object(
            "Group",
            [
                _f("Name", "string", 40, _CUR),
                _f("DeveloperName", "string", 80, _CU),
                _f("Type", "picklist", 40, "CP", values=GROUP_TYPES),
                _f("RelatedId", "reference", 18, to=("User", "UserRole", "Territory2")),
                _f("OwnerId", "reference", 18, _CU, to=("User", "Organization"), rel="Owner"),
                _f("DoesIncludeBosses", "boolean", flags=_CU),
                _f("DoesSendEmailToMembers", "boolean", flags=_CU),
                _f("Email", "email", 255, _CU),
                _f("Description", "string", 255, _CU, since=62.0),
            ],
        ),
        _object(
            "GroupMember",
            [
                _f("GroupId", "reference", 18, _CR, to="Group"),
                _f("UserOrGroupId", "reference", 18, _CR, to=("User", "Group"), rel="UserOrGroup"),
            ],
            updateable=False,
            label="Group Member",
        ),
        _object(
            "PermissionSet",
            [
                _f("Name", "string", 80, _CUR),
                _f("Label", "string", 80, _CUR),
                _f("Description", "string", 255, _CU),
                _f("IsOwnedByProfile", "boolean"),
                _f("ProfileId", "reference", 18, to="Profile"),
                _f("IsCustom", "boolean"),
                _f(
                    "Type",
                    "picklist",
                    40,
                    values=("Regular", "Session", "Standard", "Group", "Profile"),
                    since=46.0,
                ),
                _f("PermissionSetGroupId", "reference", 18, to="PermissionSetGroup", since=45.0),
                _f(
                    "LicenseId",
                    "reference",
                    18,
                    _CU,
                    to=("UserLicense", "PermissionSetLicense"),
                    rel="License",
                ),
                _f("NamespacePrefix", "string", 15),
                _f("HasActivationRequired", "boolean", flags=_CU),
                *_permissions(_CU),
            ],
            label="Permission Set",
        ),
        _object(
            "PermissionSetAssignment",
            [
                _f("AssigneeId", "reference", 18, "C", to="User"),
                _f("PermissionSetId", "reference", 18, "C", to="PermissionSet"),
                _f("PermissionSetGroupId", "reference", 18, "C", to="PermissionSetGroup", since=45.0),
                _f("IsActive", "boolean", default=True, since=52.0),
                _f("ExpirationDate", "datetime", flags=_CU, since=52.0),
                _f("IsRevoked", "boolean", since=57.0),
            ],
            label="Permission Set Assignment",
        ),
        _object(
            "PermissionSetGroup",
            [
                _f("DeveloperName", "string", 80, _CUR),
                _f("MasterLabel", "string", 80, _CUR),
                _f("Description", "textarea", 255, _CU),
                _f("Language", "picklist", 40, _CU, values=LANGUAGES),
                _f("NamespacePrefix", "string", 15),
                _f("HasActivationRequired", "boolean", flags=_CU),
                _f(
                    "Status",
                    "picklist",
                    40,
                    values=("Updated", "Outdated", "Updating", "Failed"),
                    default="Updated",
                ),
            ],
            soft_delete=True,
            label="Permission Set Group",
        ),
        _object(
            "PermissionSetGroupComponent",
            [
                _f("PermissionSetGroupId", "reference", 18, _CR, to="PermissionSetGroup"),
                _f("PermissionSetId", "reference", 18, _CR, to="PermissionSet"),
            ],
            updateable=False,
            soft_delete=True,
            label="Permission Set Group Component",
        ),
        _object(
            "ConnectedApplication",
            [
                _f("Name", "string", 80),
                _f("OptionsAllowAdminApprovedUsersOnly", "boolean"),
                _f("OptionsRefreshTokenValidityMetric", "boolean"),
                _f("RefreshTokenValidityPeriod", "int"),
                _f("MobileSessionTimeout", "picklist", 40),
                _f("PinLength", "picklist", 40),
                _f("StartUrl", "url", 255),
                _f("MobileStartUrl", "url", 255),
                _f("OptionsHasSessionLevelPolicy", "boolean"),
            ],
            createable=False,
            updateable=False,
            deletable=False,
            label="Connected App",
        ),
        _object(
            "SetupEntityAccess",
            [
                _f("ParentId", "reference", 18, _CR, to="PermissionSet", rel="Parent"),
                _f(
                    "SetupEntityId",
                    "reference",
                    18,
                    _CR,
                    to=("ConnectedApplication", "ApexClass", "ApexPage", "CustomPermission"),
                    rel="SetupEntity",
                ),
                _f("SetupEntityType", "picklist", 40, values=SETUP_ENTITY_TYPES),
            ],
            updateable=False,
            label="Setup Entity Access",
        ),
        _object(
            "Territory2Model",
            [
                _f("Name", "string", 80, _CUR),
                _f("DeveloperName", "string", 80, _CUR),
                _f(
                    "State",
                    "picklist",
                    40,
                    values=(
                        "Planning",
                        "Activating",
                        "Activation Failed",
                        "Active",
                        "Archiving",
                        "Archiving Failed",
                        "Archived",
                        "Deleting",
                        "Deletion Failed",
                    ),
                    default="Planning",
                ),
                _f("ActivatedDate", "datetime"),
                _f("DeactivatedDate", "datetime"),
                _f("Description", "textarea", 1000, _CU),
                _f("LastRunRulesEndDate", "datetime"),
            ],
            feature="territory_management",
            label="Territory Model",
        ),
        _object(
            "Territory2Type",
            [
                _f("MasterLabel", "string", 80, _CUR),
                _f("DeveloperName", "string", 80, _CUR),
                _f("Priority", "int", flags=_CU),
                _f("Description", "textarea", 1000, _CU),
            ],
            feature="territory_management",
            label="Territory Type",
        ),
        _object(
            "Territory2",
            [
                _f("Name", "string", 80, _CUR),
                _f("DeveloperName", "string", 80, _CUR),
                _f("Territory2ModelId", "reference", 18, _CR, to="Territory2Model"),
                _f("Territory2TypeId", "reference", 18, _CUR, to="Territory2Type"),
                _f("ParentTerritory2Id", "reference", 18, _CU, to="Territory2"),
                _f("AccountAccessLevel", "picklist", 40, _CU),
                _f("OpportunityAccessLevel", "picklist", 40, _CU),
                _f("CaseAccessLevel", "picklist", 40, _CU),
                _f("ContactAccessLevel", "picklist", 40),
                _f("ForecastUserId", "reference", 18, _CU, to="User"),
                _f("Description", "textarea", 1000, _CU),
            ],
            feature="territory_management",
            label="Territory",
        ),
        _object(
            "UserTerritory2Association",
            [
                _f("UserId", "reference", 18, _CR, to="User"),
                _f("Territory2Id", "reference", 18, _CR, to="Territory2"),
                _f("RoleInTerritory2", "picklist", 255, _CU),
                _f("IsActive", "boolean", default=True),
            ],
            feature="territory_management",
            label="User Territory Association",
        ),
    ]
}
OBJECTS_LOWER: dict[str, SObject] = {name.lower(): obj for name, obj in OBJECTS.items()}

# Fields reachable through a polymorphic relationship (the `Name` pseudo-object of SOQL).
NAME_FIELDS: tuple[str, ...] = (
    "Id",
    "Name",
    "Alias",
    "Email",
    "FirstName",
    "LastName",
    "IsActive",
    "Username",
    "UserRoleId",
    "ProfileId",
    "Title",
    "Type",
)
NAME_FIELDS_LOWER = {n.lower(): n for n in NAME_FIELDS}

# Child relationships (parent object -> (relationship name, child object, child field)); for describe and
# child sub-queries.
CHILD_RELATIONSHIPS: list[tuple[str, str, str, str]] = [
    ("User", "PermissionSetAssignments", "PermissionSetAssignment", "AssigneeId"),
    ("User", "UserTerritory2Associations", "UserTerritory2Association", "UserId"),
    ("User", "GroupMembers", "GroupMember", "UserOrGroupId"),
    ("Group", "GroupMembers", "GroupMember", "GroupId"),
    ("PermissionSet", "Assignments", "PermissionSetAssignment", "PermissionSetId"),
    ("PermissionSet", "SetupEntityAccessItems", "SetupEntityAccess", "ParentId"),
    (
        "PermissionSetGroup",
        "PermissionSetGroupComponents",
        "PermissionSetGroupComponent",
        "PermissionSetGroupId",
    ),
    ("Profile", "Users", "User", "ProfileId"),
    ("UserRole", "Users", "User", "UserRoleId"),
    ("Territory2", "UserTerritory2Associations", "UserTerritory2Association", "Territory2Id"),
    ("Territory2Model", "Territory2s", "Territory2", "Territory2ModelId"),
]


def get_object(name: str) -> SObject | None:
    """Look an object up by API name, case-insensitively."""
    return OBJECTS_LOWER.get(name.lower())
