"""A small, fully known org fixture for the local-org tests, with the secrets needed to sign in to it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from local_salesforce.ids import IdGenerator
from local_salesforce.schema import PERMISSIONS

CONSUMER_KEY = "3MVG9local.consumer.key"
CONSUMER_SECRET = "local-consumer-secret"
INTEGRATION_USER = "integration@acme.test"
ADMIN_USER = "admin@acme.test"
ADMIN_PASSWORD, ADMIN_TOKEN = "Admin-pass1", "TOKENadmin"
REFRESH_TOKEN = "5Aep861local.refresh.token"


def _key_and_certificate() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pipeline-jwt")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Org:
    """The fixture plus named ids, so tests can assert exact values."""

    fixture: dict
    private_key: str
    ids: dict[str, str] = field(default_factory=dict)
    other_key: str = ""


def build(standard_users: int = 6, seed: int = 1) -> Org:
    gen = IdGenerator(seed)
    ids: dict[str, str] = {}
    records: dict[str, list[dict]] = {}

    def add(object_name: str, name: str | None, **values: object) -> str:
        record_id = gen.new(object_name)
        if name:
            ids[name] = record_id
        records.setdefault(object_name, []).append({"Id": record_id, **values})
        return record_id

    add(
        "Organization",
        "org",
        Name="Acme Test",
        OrganizationType="Enterprise Edition",
        IsSandbox=False,
        InstanceName="NA1",
    )
    add(
        "UserLicense",
        "lic_sf",
        Name="Salesforce",
        MasterLabel="Salesforce",
        LicenseDefinitionKey="SFDC",
        Status="Active",
        TotalLicenses=20,
    )
    add(
        "UserLicense",
        "lic_platform",
        Name="Salesforce Platform",
        MasterLabel="Salesforce Platform",
        LicenseDefinitionKey="AUL",
        Status="Active",
        TotalLicenses=1,
    )

    all_permissions = {p: True for p in PERMISSIONS}
    profiles = {
        "prof_admin": ("System Administrator", "lic_sf", all_permissions),
        "prof_standard": ("Standard User", "lic_sf", {"PermissionsApiEnabled": True}),
        "prof_api": ("Minimum Access - API Only Integrations", "lic_sf", {"PermissionsApiEnabled": True}),
        "prof_platform": ("Platform User", "lic_platform", {"PermissionsApiEnabled": True}),
    }
    for key, (name, licence, permissions) in profiles.items():
        add("Profile", key, Name=name, UserLicenseId=ids[licence], **permissions)
        add(
            "PermissionSet",
            f"ps_{key}",
            Name=f"X00e{ids[key][3:15]}",
            Label=f"{name} profile",
            IsOwnedByProfile=True,
            ProfileId=ids[key],
            Type="Profile",
            IsCustom=False,
            **permissions,
        )

    add("UserRole", "role_ceo", Name="CEO", DeveloperName="CEO", PortalType="None")
    add(
        "UserRole",
        "role_vp",
        Name="VP Sales",
        DeveloperName="VP_Sales",
        ParentRoleId=ids["role_ceo"],
        PortalType="None",
    )
    add(
        "UserRole",
        "role_rep",
        Name="Sales Rep",
        DeveloperName="Sales_Rep",
        ParentRoleId=ids["role_vp"],
        PortalType="None",
    )

    add(
        "User",
        "user_admin",
        Username=ADMIN_USER,
        FirstName="Ada",
        LastName="Admin",
        Email="ada@acme.test",
        Alias="aadmin",
        ProfileId=ids["prof_admin"],
        UserRoleId=ids["role_ceo"],
        IsActive=True,
        TimeZoneSidKey="America/Los_Angeles",
        LocaleSidKey="en_US",
        EmailEncodingKey="UTF-8",
        LanguageLocaleKey="en_US",
        LastLoginDate="2024-05-01T10:00:00.000+0000",
    )
    add(
        "User",
        "user_int",
        Username=INTEGRATION_USER,
        FirstName="Integration",
        LastName="User",
        Email="integration@acme.test",
        Alias="integ",
        ProfileId=ids["prof_api"],
        IsActive=True,
        TimeZoneSidKey="GMT",
        LocaleSidKey="en_US",
        EmailEncodingKey="UTF-8",
        LanguageLocaleKey="en_US",
    )
    for number in range(1, standard_users + 1):
        add(
            "User",
            f"user_{number}",
            Username=f"user{number}@acme.test",
            FirstName=f"First{number}",
            LastName=f"Last{number}",
            Email=f"user{number}@acme.test",
            Alias=f"u{number}",
            ProfileId=ids["prof_standard"],
            UserRoleId=ids["role_rep"] if number % 2 else None,
            IsActive=number != standard_users,
            TimeZoneSidKey="Europe/London",
            LocaleSidKey="en_GB",
            EmailEncodingKey="UTF-8",
            LanguageLocaleKey="en_US",
            LastLoginDate=f"2024-06-{number:02d}T08:30:00.000+0000" if number < 4 else None,
        )

    add(
        "PermissionSet",
        "ps_integration",
        Name="Integration_Access",
        Label="Integration Access",
        Type="Regular",
        IsCustom=True,
        PermissionsApiEnabled=True,
        PermissionsManageUsers=True,
        PermissionsViewSetup=True,
        PermissionsCustomizeApplication=True,
        PermissionsAssignPermissionSets=True,
        PermissionsManageTerritories=True,
    )
    add("PermissionSet", "ps_sales_ops", Name="Sales_Ops", Label="Sales Ops", Type="Regular", IsCustom=True)
    add(
        "PermissionSet",
        "ps_reports",
        Name="Report_Builder",
        Label="Report Builder",
        Type="Regular",
        IsCustom=True,
        LicenseId=ids["lic_sf"],
    )
    add(
        "PermissionSetGroup",
        "psg_sales",
        DeveloperName="Sales_Bundle",
        MasterLabel="Sales Bundle",
        Description="Sales tools",
        Status="Updated",
    )
    add(
        "PermissionSet",
        "ps_psg_sales",
        Name="Sales_Bundle_aggregate",
        Label="Sales Bundle",
        Type="Group",
        PermissionSetGroupId=ids["psg_sales"],
        IsCustom=False,
    )
    add(
        "PermissionSetGroupComponent",
        "psgc_1",
        PermissionSetGroupId=ids["psg_sales"],
        PermissionSetId=ids["ps_sales_ops"],
    )
    add(
        "PermissionSetGroupComponent",
        "psgc_2",
        PermissionSetGroupId=ids["psg_sales"],
        PermissionSetId=ids["ps_reports"],
    )

    add(
        "PermissionSetAssignment",
        "psa_int",
        AssigneeId=ids["user_int"],
        PermissionSetId=ids["ps_integration"],
    )
    add("PermissionSetAssignment", "psa_1_ops", AssigneeId=ids["user_1"], PermissionSetId=ids["ps_sales_ops"])
    add(
        "PermissionSetAssignment",
        "psa_2_psg",
        AssigneeId=ids["user_2"],
        PermissionSetId=ids["ps_psg_sales"],
        PermissionSetGroupId=ids["psg_sales"],
    )

    add("Group", "grp_org", DeveloperName="AllInternalUsers", Type="Organization", Name="All Internal Users")
    for role in ("role_ceo", "role_vp", "role_rep"):
        for group_type in ("Role", "RoleAndSubordinates", "RoleAndSubordinatesInternal"):
            add(
                "Group",
                f"grp_{role}_{group_type}",
                DeveloperName=f"{role}_{group_type}",
                Type=group_type,
                RelatedId=ids[role],
            )
    add("Group", "grp_sales", Name="Sales Team", DeveloperName="Sales_Team", Type="Regular")
    add("Group", "grp_queue", Name="Support Queue", DeveloperName="Support_Queue", Type="Queue")
    add("GroupMember", "gm_1", GroupId=ids["grp_sales"], UserOrGroupId=ids["user_1"])
    add("GroupMember", "gm_nested", GroupId=ids["grp_sales"], UserOrGroupId=ids["grp_role_rep_Role"])

    add("ConnectedApplication", "app", Name="Access Pipeline", OptionsAllowAdminApprovedUsersOnly=True)
    add(
        "SetupEntityAccess",
        "sea_int",
        ParentId=ids["ps_integration"],
        SetupEntityId=ids["app"],
        SetupEntityType="ConnectedApplication",
    )

    add("Territory2Model", "t2model", Name="FY24", DeveloperName="FY24", State="Active")
    add("Territory2Type", "t2type", MasterLabel="Region", DeveloperName="Region", Priority=1)
    add(
        "Territory2",
        "t2_emea",
        Name="EMEA",
        DeveloperName="EMEA",
        Territory2ModelId=ids["t2model"],
        Territory2TypeId=ids["t2type"],
    )
    add(
        "Territory2",
        "t2_uk",
        Name="UK",
        DeveloperName="UK",
        Territory2ModelId=ids["t2model"],
        Territory2TypeId=ids["t2type"],
        ParentTerritory2Id=ids["t2_emea"],
    )
    add(
        "UserTerritory2Association",
        "ut2a_1",
        UserId=ids["user_1"],
        Territory2Id=ids["t2_uk"],
        RoleInTerritory2="Sales Rep",
    )

    private_key, certificate = _key_and_certificate()
    other_key, _ = _key_and_certificate()
    fixture = {
        "format": 1,
        "org": {
            "territory_management": True,
            "daily_api_limit": 100000,
            "picklists": {
                "UserTerritory2Association.RoleInTerritory2": [
                    {"value": "Sales Rep", "active": True},
                    {"value": "Owner", "active": True},
                    {"value": "Retired", "active": False},
                ]
            },
            "credentials": [
                {"username": ADMIN_USER, "password": ADMIN_PASSWORD, "security_token": ADMIN_TOKEN}
            ],
            "oauth_apps": [
                {
                    "name": "Access Pipeline",
                    "consumer_key": CONSUMER_KEY,
                    "consumer_secret": CONSUMER_SECRET,
                    "certificate": certificate,
                    "permitted_users": "admin_approved",
                    "approved_usernames": [ADMIN_USER],
                    "client_credentials_user": INTEGRATION_USER,
                    "refresh_tokens": [{"token": REFRESH_TOKEN, "username": ADMIN_USER}],
                }
            ],
        },
        "records": records,
    }
    return Org(fixture, private_key, ids, other_key)
