"""A deterministic demo org for the local Salesforce server.

`generate(size, seed)` returns `(fixture, secrets)`: a fixture in the format of FIXTURES.md and the
credentials of the org's integration user. The org looks like a sales company's: a role hierarchy
from the CEO down to sales reps and partner portal roles, the groups Salesforce creates for roles
and territories, profiles each owning their permission set, permission set groups with aggregate
permission sets, public groups nested in each other (one cycle), queues, two territory models,
connected apps, and the users Salesforce orgs really carry (service users, partner, community,
Chatter Free and guest users, inactive and frozen users, one user with an empty `UserType`).

Everything in `fixture["records"]` depends only on `(size, seed)`: the same pair gives
byte-identical JSON. The one exception is the RSA key behind the connected app's certificate:
`cryptography` cannot derive a key from a seed, so a key pair is made once per process and cached.
Within a process the whole fixture is stable; across processes only the certificate (in
`org.oauth_apps`) and `secrets["private_key_pem"]` change. No key is ever written to the repository.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from local_salesforce import schema
from local_salesforce.ids import IdGenerator

__all__ = ["SIZES", "OrgSize", "count_grant_rows", "generate"]


@dataclass(frozen=True)
class OrgSize:
    """How big a demo org is: user count and the knobs that scale the rest with it."""

    users: int
    regions: int
    subregions: int  # per region
    teams: int  # sales teams (manager + reps) per sub-region
    segments: int  # territory segments per sub-region in the active model
    partner_accounts: int
    extra_permission_sets: int
    project_groups: int
    extra_permission_set_mean: float  # extra regular permission sets per internal user
    project_group_mean: float  # public-group memberships per internal user


# Tuned so that grant-like rows (assignments, group members, territory associations, and the
# user's role and profile) come to roughly 15 per user: ~300,000 for medium, ~1.5 million for large.
SIZES: dict[str, OrgSize] = {
    "small": OrgSize(
        users=200, regions=2, subregions=2, teams=1, segments=2, partner_accounts=2,
        extra_permission_sets=8, project_groups=4, extra_permission_set_mean=4.0, project_group_mean=2.0,
    ),
    "medium": OrgSize(
        users=20_000, regions=4, subregions=4, teams=3, segments=3, partner_accounts=6,
        extra_permission_sets=80, project_groups=120, extra_permission_set_mean=4.5, project_group_mean=2.5,
    ),
    "large": OrgSize(
        users=100_000, regions=6, subregions=6, teams=5, segments=4, partner_accounts=12,
        extra_permission_sets=240, project_groups=500, extra_permission_set_mean=4.5, project_group_mean=2.5,
    ),
}  # fmt: skip

# "Today" inside the demo org; every date is an offset from these, never from the clock.
_ORG_CREATED = datetime(2019, 3, 4, 17, 22, 9, tzinfo=UTC)
_AS_OF = datetime(2025, 6, 30, 12, 0, 0, tzinfo=UTC)

_ORG_NAMES = (
    "Acme Corporation",
    "Globex Corporation",
    "Initech",
    "Umbrella Corporation",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Soylent Corp",
    "Cyberdyne Systems",
    "Wonka Industries",
)
_INSTANCES = ("NA224", "NA139", "NA211", "EU46", "EU25", "AP24")

# Region, its sub-regions, and the (time zone, locale, language) of people working there; all
# values are ones the local org accepts (schema.TIME_ZONES, LOCALES, LANGUAGES).
_REGIONS = (
    (
        "North America",
        ("West", "Central", "East", "Canada", "Southeast", "Northeast"),
        (
            ("America/Los_Angeles", "en_US", "en_US"),
            ("America/Chicago", "en_US", "en_US"),
            ("America/New_York", "en_US", "en_US"),
            ("America/New_York", "en_CA", "en_US"),
        ),
    ),
    (
        "EMEA",
        ("UK and Ireland", "DACH", "France", "Nordics", "Southern Europe", "Middle East"),
        (
            ("Europe/London", "en_GB", "en_US"),
            ("Europe/Berlin", "de_DE", "de"),
            ("Europe/Paris", "fr_FR", "fr"),
            ("Europe/Amsterdam", "nl_NL", "nl_NL"),
        ),
    ),
    (
        "APAC",
        ("ANZ", "Japan", "India", "Southeast Asia", "Greater China", "Korea"),
        (
            ("Australia/Sydney", "en_AU", "en_US"),
            ("Asia/Tokyo", "ja_JP", "ja"),
            ("Asia/Kolkata", "en_GB", "en_GB"),
            ("Asia/Singapore", "en_GB", "en_US"),
        ),
    ),
    (
        "LATAM",
        ("Brazil", "Mexico", "Andean", "Southern Cone", "Central America", "Caribbean"),
        (
            ("America/Sao_Paulo", "pt_BR", "pt_BR"),
            ("America/Chicago", "es_ES", "es"),
            ("America/New_York", "es_ES", "es"),
        ),
    ),
    (
        "Public Sector",
        ("Federal", "State and Local", "Education", "Healthcare", "Defense", "Nonprofit"),
        (("America/New_York", "en_US", "en_US"), ("America/Chicago", "en_US", "en_US")),
    ),
    (
        "Strategic Accounts",
        ("Global Accounts", "Financial Services", "Retail", "Manufacturing", "Technology", "Energy"),
        (("America/New_York", "en_US", "en_US"), ("Europe/London", "en_GB", "en_US")),
    ),
)
_SEGMENTS = ("Enterprise", "Commercial", "SMB", "Strategic")

_FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra "
    "Mark Ashley Donald Emily Steven Kimberly Andrew Donna Paul Michelle Joshua Carol Kenneth Amanda Kevin "
    "Melissa Brian Deborah George Stephanie Timothy Rebecca Ronald Laura Jason Sharon Edward Cynthia Jeffrey "
    "Kathleen Ryan Amy Jacob Angela Gary Anna Nicholas Brenda Eric Emma Jonathan Olivia Priya Arjun Wei Mei "
    "Hiroshi Yuki Sofia Mateo Lucas Camila Lars Ingrid Pierre Camille Hans Greta Ahmed Fatima Kwame Amara "
    "Diego Valentina Raj Ananya Chen Min-jun Seo-yeon Oliver Charlotte Liam Ava Noah Isla Aisha Omar"
).split()
_LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Shah Kumar Singh Tanaka Suzuki Sato "
    "Kim Park Choi Wang Li Zhang Liu Chen Muller Schmidt Schneider Fischer Dubois Moreau Laurent Rossi "
    "Russo Ferrari Silva Santos Oliveira Costa Pereira Andersson Johansson Larsen Nielsen Okafor Mensah "
    "Haddad Khan Ali Murphy Kelly OBrien Walsh Byrne Novak Kowalski Ivanova Petrov Cohen Levi Yamamoto "
    "Nakamura Ito Watanabe Gupta Reddy Iyer Fernandes Alvarez Romero Castillo Vargas Morales Ortiz"
).split()

# Name, MasterLabel-independent licence key, and the UserType of users holding it.
_LICENSES = (
    ("Salesforce", "SFDC", "Standard"),
    ("Salesforce Platform", "AUL", "Standard"),
    ("Chatter Free", "PID_Chatter", "CsnOnly"),
    ("Customer Community", "PID_Customer_Community", "CspLitePortal"),
    ("Partner Community", "PID_Partner_Community", "PowerPartner"),
    # The key must end in _INTEGRATION_USER: that suffix is what marks service accounts (SPEC §5).
    ("Salesforce Integration", "PID_SALESFORCE_INTEGRATION_USER", "Standard"),
    ("Identity", "PID_Identity", "Standard"),
    ("Guest User License", "PID_Guest_User", "Guest"),
    ("Analytics Cloud Integration User", "PID_Analytics_Cloud_Integration", "CloudIntegrationUser"),
    ("Automated Process", "PID_Automated_Process", "AutomatedProcess"),
)

# Permission names are short ("ModifyAllData"); records carry the Permissions* fields the local org
# serves (schema.PERMISSIONS). Names it does not serve yet are kept in the sets below and simply not
# written, so profiles gain them as soon as the schema does.
_PERMISSIONS = tuple(name.removeprefix("Permissions") for name in schema.PERMISSIONS)
_EVERYDAY = frozenset(
    "ApiEnabled RunReports EditTask EditEvent ConvertLeads EmailSingle ChatterInternalUser "
    "LightningExperienceUser".split()
)
_ADMIN = frozenset(_PERMISSIONS)

# Profile name, licence key, permissions, description; standard profiles first, then custom ones.
_PROFILES = (
    ("System Administrator", "SFDC", _ADMIN, None),
    ("Standard User", "SFDC", _EVERYDAY, None),
    ("Read Only", "SFDC", frozenset({"ApiEnabled", "RunReports", "ChatterInternalUser"}), None),
    ("Minimum Access - Salesforce", "SFDC", frozenset(), "Grants the least access; add permission sets."),
    ("Solution Manager", "SFDC", _EVERYDAY | {"ExportReport", "ManageDashboards"}, None),
    ("Marketing User", "SFDC", _EVERYDAY | {"ExportReport", "ManageDashboards"}, None),
    ("Contract Manager", "SFDC", _EVERYDAY, None),
    ("Standard Platform User", "AUL", _EVERYDAY - {"ConvertLeads"}, None),
    ("Chatter Free User", "PID_Chatter", frozenset({"ChatterInternalUser"}), None),
    ("Customer Community User", "PID_Customer_Community", frozenset({"EmailSingle"}), None),
    (
        "Partner Community User",
        "PID_Partner_Community",
        frozenset({"EditTask", "EditEvent", "EmailSingle"}),
        None,
    ),
    (
        "Minimum Access - API Only Integrations",
        "PID_SALESFORCE_INTEGRATION_USER",
        frozenset({"ApiEnabled", "ApiUserOnly"}),
        "For integration users that only call the API.",
    ),
    ("Identity User", "PID_Identity", frozenset(), None),
    ("Help Center Profile", "PID_Guest_User", frozenset(), "Guest user profile of the Help Center site."),
    (
        "Partner Portal Profile",
        "PID_Guest_User",
        frozenset(),
        "Guest user profile of the Partner Portal site.",
    ),
    ("Analytics Cloud Integration User", "PID_Analytics_Cloud_Integration", frozenset({"ApiEnabled"}), None),
    ("Automated Process", "PID_Automated_Process", frozenset({"ApiEnabled"}), None),
    (
        "Sales Ops",
        "SFDC",
        _EVERYDAY | {"ExportReport", "ManageDashboards", "ViewSetup", "ViewAllUsers", "ManageTerritories"},
        "Sales operations: forecasting, territories and reporting.",
    ),
    ("Sales Representative", "SFDC", _EVERYDAY, "Account executives and inside sales."),
    ("Sales Manager", "SFDC", _EVERYDAY | {"ExportReport", "ManageDashboards"}, "First-line sales managers."),
    ("Service Agent", "SFDC", (_EVERYDAY - {"ConvertLeads"}) | {"ManageCases"}, "Support agents."),
    (
        "Finance Analyst",
        "AUL",
        _EVERYDAY - {"ConvertLeads"} | {"ExportReport"},
        "Finance on the Platform licence.",
    ),
)

# Regular permission sets: API name, label, permissions, licence key (None: any licence), extras.
_PERMISSION_SETS = (
    ("Sales_Cloud_User", "Sales Cloud User", {"ConvertLeads"}, "SFDC", {}),
    ("Service_Cloud_User", "Service Cloud User", {"ManageCases"}, "SFDC", {}),
    ("Knowledge_User", "Knowledge User", set(), None, {}),
    ("Marketing_User", "Marketing User", {"ManageDashboards"}, None, {}),
    ("API_Only", "API Only", {"ApiEnabled", "ApiUserOnly"}, None, {}),
    ("Manage_Reports", "Manage Reports", {"RunReports", "ExportReport", "ManageDashboards"}, None, {}),
    ("Export_Reports", "Export Reports", {"ExportReport"}, None, {}),
    ("View_Setup", "View Setup", {"ViewSetup"}, None, {}),
    ("Einstein_Analytics_Plus_User", "Einstein Analytics Plus User", {"RunReports"}, None, {}),
    ("Flow_User", "Flow User", set(), None, {}),
    ("Sales_Console_User", "Sales Console User", set(), None, {}),
    ("Inbox_User", "Inbox User", {"EmailSingle"}, None, {}),
    ("Data_Loader_Access", "Data Loader Access", {"ApiEnabled"}, None, {}),
    ("Territory_Manager", "Territory Manager", {"ManageTerritories"}, None, {}),
    ("View_All_Data", "View All Data", {"ViewAllData"}, None, {}),
    (
        "Delegated_User_Admin",
        "Delegated User Administration",
        {
            "ManageInternalUsers",
            "ResetPasswords",
            "FreezeUsers",
            "AssignPermissionSets",
            "ViewSetup",
            "ViewAllUsers",
        },
        None,
        {},
    ),
    (
        "Break_Glass_Admin",
        "Break Glass Administrator",
        {"ModifyAllData", "ViewAllData", "ManageUsers", "ViewSetup"},
        None,
        {"Type": "Session", "HasActivationRequired": True},
    ),
    ("Finance_App_Access", "Finance App Access", {"ExportReport"}, "AUL", {}),
    ("Partner_Deal_Registration", "Partner Deal Registration", set(), "PID_Partner_Community", {}),
    ("Partner_Lead_Access", "Partner Lead Access", set(), "PID_Partner_Community", {}),
    ("Customer_Case_Access", "Customer Case Access", set(), "PID_Customer_Community", {}),
    ("SteelBrickCPQUser", "Salesforce CPQ User", set(), None, {"NamespacePrefix": "SBQQ", "IsCustom": False}),
    ("DocuSign_User", "DocuSign User", set(), None, {"NamespacePrefix": "dsfs", "IsCustom": False}),
    ("sfdc_activityplatform", "Sales User", set(), None, {"Type": "Standard", "IsCustom": False}),
)
# Words that make the extra, org-specific permission sets of the bigger sizes.
_PS_OBJECTS = (
    "Quote Contract Invoice Forecast Commission Renewal Territory_Plan Partner_Fund Case_Escalation Order "
    "Product_Catalog Price_Book Campaign Lead_Routing Account_Plan Deal_Registration Opportunity_Split "
    "Entitlement Warranty Subscription Usage_Billing Revenue_Schedule Discount Approval_Matrix Survey "
    "Field_Service Asset Work_Order Knowledge_Article Customer_Health"
).split()
_PS_LEVELS = ("Viewer", "Editor", "Approver", "Admin")

# Base permission sets per department, with the share of its users who get each.
_DEPARTMENT_SETS = {
    "Sales": (
        ("Sales_Cloud_User", 0.95),
        ("Sales_Console_User", 0.7),
        ("SteelBrickCPQUser", 0.5),
        ("DocuSign_User", 0.4),
        ("Inbox_User", 0.3),
        ("Manage_Reports", 0.2),
        ("sfdc_activityplatform", 0.5),
    ),
    "Sales Operations": (
        ("Sales_Cloud_User", 1.0),
        ("Manage_Reports", 1.0),
        ("Export_Reports", 0.8),
        ("Data_Loader_Access", 0.6),
    ),
    "Support": (("Service_Cloud_User", 0.95), ("Knowledge_User", 0.9), ("Flow_User", 0.4)),
    "Marketing": (("Marketing_User", 0.9), ("Einstein_Analytics_Plus_User", 0.5), ("Manage_Reports", 0.5)),
    "Finance": (("Finance_App_Access", 0.9), ("Manage_Reports", 0.6), ("Export_Reports", 0.6)),
    "IT": (("View_Setup", 1.0), ("Data_Loader_Access", 0.8), ("Delegated_User_Admin", 0.6)),
    "Executive": (("Einstein_Analytics_Plus_User", 1.0), ("Manage_Reports", 1.0)),
    "Partner": (("Partner_Deal_Registration", 0.9), ("Partner_Lead_Access", 0.6)),
    "Customer": (("Customer_Case_Access", 0.7),),
}

# Permission set groups: developer name, label, component permission sets, who gets it.
_PERMISSION_SET_GROUPS = (
    (
        "Sales_Leadership",
        "Sales Leadership",
        ("Sales_Cloud_User", "Manage_Reports", "Einstein_Analytics_Plus_User", "Export_Reports"),
        "leaders",
    ),
    ("Support_Console", "Support Console", ("Service_Cloud_User", "Knowledge_User", "Flow_User"), "Support"),
    (
        "Sales_Ops_Admin",
        "Sales Ops Admin",
        ("View_Setup", "Data_Loader_Access", "Territory_Manager", "Manage_Reports"),
        "Sales Operations",
    ),
    (
        "Security_Administrators",
        "Security Administrators",
        ("Delegated_User_Admin", "View_Setup", "View_All_Data"),
        "IT",
    ),
    (
        "Marketing_Automation",
        "Marketing Automation",
        ("Marketing_User", "Flow_User", "Einstein_Analytics_Plus_User"),
        "Marketing",
    ),
    (
        "Read_Only_Auditors",
        "Read Only Auditors",
        ("View_Setup", "View_All_Data", "Export_Reports"),
        "auditors",
    ),
)

_TERRITORY_ROLES = (
    {"value": "Sales Rep", "active": True},
    {"value": "Sales Manager", "active": True},
    {"value": "Sales Engineer", "active": True},
    # Retired from the picklist, but rows still carry it: the pipeline must keep offering it.
    {"value": "Channel Manager", "active": False},
)

_PARTNER_ACCOUNTS = (
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adventure Works", "Proseware", "Wingtip",
    "Woodgrove", "Lucerne", "Alpine Ski", "Coho", "Margie", "Trey Research", "Blue Yonder", "Humongous",
)  # fmt: skip

_PROJECT_CODENAMES = (
    "Atlas Borealis Cascade Delta Ember Falcon Granite Horizon Ignite Juniper Keystone Lighthouse Meridian "
    "Nimbus Orion Pinnacle Quasar Redwood Summit Tidal Unity Vanguard Willow Zenith"
).split()

_PASSWORD_CHARS = string.ascii_letters + string.digits + "!#%*+-=?@^_"


# --- public API -------------------------------------------------------------------------------------


def generate(size: str = "small", seed: int = 0) -> tuple[dict, dict]:
    """Return `(fixture, secrets)` for a demo org of `size` ("small", "medium", "large")."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    builder = _DemoOrg(SIZES[size], seed)
    return builder.build()


def count_grant_rows(fixture: dict) -> int:
    """Count the rows that become direct grants: assignments, members, associations, roles, profiles."""
    records = fixture["records"]
    users = records.get("User", [])
    return (
        len(records.get("PermissionSetAssignment", []))
        + len(records.get("GroupMember", []))
        + len(records.get("UserTerritory2Association", []))
        + sum(1 for user in users if user.get("UserRoleId"))
        + sum(1 for user in users if user.get("ProfileId"))
    )


# --- helpers ----------------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    """Write a datetime the way the REST API does."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _developer_name(label: str) -> str:
    """Turn a label into an API name: letters, digits, single underscores, starting with a letter."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")
    return name if name[:1].isalpha() else "X" + name


def _token(rng: random.Random, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


@functools.cache
def _signing_key() -> rsa.RSAPrivateKey:
    # One key per process: cryptography has no seeded key generation, and 2048-bit keys take a while.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def _certificate_pem(common_name: str, serial: int) -> str:
    """Self-signed certificate for the signing key; PKCS#1 v1.5 signatures keep it stable per process."""
    key = _signing_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(_ORG_CREATED)
        .not_valid_after(_ORG_CREATED + timedelta(days=365 * 15))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _private_key_pem() -> str:
    return (
        _signing_key()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


@dataclass
class _Role:
    id: str
    name: str
    kind: str
    department: str
    parent: _Role | None = None
    region: int | None = None
    subregion: int | None = None
    portal: bool = False


@dataclass
class _Person:
    """What the generator knows about a user beyond the record, to hand out access consistently."""

    record: dict
    department: str
    license_key: str
    role: _Role | None = None
    leader: bool = False
    human: bool = True


# --- the builder ------------------------------------------------------------------------------------


class _DemoOrg:
    """Builds one org; methods run in a fixed order so ids and random draws are reproducible."""

    def __init__(self, size: OrgSize, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.rng = random.Random(f"demo-org:{seed}")
        self.ids = IdGenerator(seed)
        self.records: dict[str, list[dict]] = {}

        org_index = seed % len(_ORG_NAMES)
        self.org_name = _ORG_NAMES[org_index]
        self.short_name = self.org_name.split()[0]
        suffix = "" if seed < len(_ORG_NAMES) else str(seed // len(_ORG_NAMES))
        self.domain = f"{self.short_name.lower()}{suffix}-demo.example"
        self.usernames: set[str] = set()
        self.nicknames: set[str] = set()

    def build(self) -> tuple[dict, dict]:
        self._organization()
        self._licenses()
        self._profiles()
        self._roles()
        self._users()
        self._permission_sets()
        self._permission_set_groups()
        self._assignments()
        self._territories()
        self._system_groups()
        self._public_groups()
        self._connected_apps()
        self._license_usage()
        secrets = self._secrets()
        fixture = {"format": 1, "org": self._org_section(secrets), "records": self.records}
        return fixture, secrets

    def _add(self, object_name: str, **fields: object) -> dict:
        """Append a record with a fresh id, leaving out None values (read back as null)."""
        record = {"Id": self.ids.new(object_name)}
        record.update((key, value) for key, value in fields.items() if value is not None)
        self.records.setdefault(object_name, []).append(record)
        return record

    def _moment(self, start: datetime, end: datetime) -> datetime:
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(max(span, 1)))

    # --- organization, licences, profiles ---

    def _organization(self) -> None:
        self.org = self._add(
            "Organization",
            Name=self.org_name,
            OrganizationType="Enterprise Edition",
            IsSandbox=False,
            InstanceName=self.rng.choice(_INSTANCES),
            CreatedDate=_stamp(_ORG_CREATED),
        )

    def _licenses(self) -> None:
        self.licenses: dict[str, dict] = {}
        for name, key, _user_type in _LICENSES:
            self.licenses[key] = self._add(
                "UserLicense",
                Name=name,
                MasterLabel=name,
                LicenseDefinitionKey=key,
                Status="Active",
                TotalLicenses=0,
                UsedLicenses=0,
                UsedLicensesLastUpdated=_stamp(_AS_OF - timedelta(hours=3)),
                CreatedDate=_stamp(_ORG_CREATED),
            )
        self.license_user_type = {key: user_type for _name, key, user_type in _LICENSES}

    def _profiles(self) -> None:
        self.profiles: dict[str, dict] = {}
        self.profile_license: dict[str, str] = {}
        self.profile_sets: dict[str, dict] = {}
        # _PROFILES lists Salesforce's own profiles first; the org's custom ones start at Sales Ops.
        standard_count = [entry[0] for entry in _PROFILES].index("Sales Ops")
        for index, (name, license_key, permissions, description) in enumerate(_PROFILES):
            flags = self._flags(permissions)
            profile = self._add(
                "Profile",
                Name=name,
                UserLicenseId=self.licenses[license_key]["Id"],
                UserType=self.license_user_type[license_key],
                Description=description,
                IsSsoEnabled=False,
                CreatedDate=_stamp(
                    _ORG_CREATED if index < standard_count else _ORG_CREATED + timedelta(days=40)
                ),
                **flags,
            )
            self.profiles[name] = profile
            self.profile_license[profile["Id"]] = license_key

            # Salesforce names a profile's own permission set after the profile id and may rename it.
            self.profile_sets[profile["Id"]] = self._add(
                "PermissionSet",
                Name="X" + profile["Id"][:15],
                Label=profile["Id"][:15],
                IsOwnedByProfile=True,
                IsCustom=index >= standard_count,
                Type="Profile",
                ProfileId=profile["Id"],
                LicenseId=self.licenses[license_key]["Id"],
                HasActivationRequired=False,
                CreatedDate=profile["CreatedDate"],
                **flags,
            )

    @staticmethod
    def _flags(permissions: set[str] | frozenset[str]) -> dict[str, bool]:
        return {"Permissions" + name: name in permissions for name in _PERMISSIONS}

    # --- roles ---

    def _role(self, name: str, kind: str, department: str, parent: _Role | None, **extra: object) -> _Role:
        record = self._add(
            "UserRole",
            Name=name,
            DeveloperName=_developer_name(name),
            ParentRoleId=parent.id if parent else None,
            RollupDescription=name,
            OpportunityAccessForAccountOwner="Edit",
            CaseAccessForAccountOwner="Edit",
            PortalType="Partner" if extra.get("portal") else "None",
        )
        role = _Role(record["Id"], name, kind, department, parent, **extra)
        self.roles.append(role)
        return role

    def _roles(self) -> None:
        """A sales company's hierarchy: executives, regional sales down to reps, and partner portal roles."""
        self.roles: list[_Role] = []
        size = self.size
        ceo = self._role("CEO", "executive", "Executive", None)
        cfo = self._role("CFO", "executive", "Executive", ceo)
        coo = self._role("COO", "executive", "Executive", ceo)
        svp = self._role("SVP Sales", "executive", "Executive", ceo)
        cmo = self._role("CMO", "executive", "Executive", ceo)

        finance_manager = self._role("Finance Manager", "manager", "Finance", cfo)
        self._role("Finance Analyst", "staff", "Finance", finance_manager)
        it_director = self._role("IT Director", "manager", "IT", coo)
        self.admin_role = self._role("Salesforce Administrator", "admin", "IT", it_director)
        ops = self._role("Sales Operations Manager", "manager", "Sales Operations", svp)
        self._role("Sales Operations Analyst", "staff", "Sales Operations", ops)
        support_vp = self._role("VP Customer Support", "vp", "Support", coo)
        marketing_manager = self._role("Marketing Manager", "manager", "Marketing", cmo)

        self.region_roles: list[_Role] = []
        for region_index in range(size.regions):
            region, subregions, _locales = _REGIONS[region_index]
            vp = self._role(f"VP Sales {region}", "vp", "Sales", svp, region=region_index)
            self.region_roles.append(vp)
            support = self._role(
                f"Support Manager {region}", "manager", "Support", support_vp, region=region_index
            )
            self._role(f"Support Agent {region}", "staff", "Support", support, region=region_index)
            self._role(
                f"Marketing Specialist {region}", "staff", "Marketing", marketing_manager, region=region_index
            )
            for sub_index in range(size.subregions):
                sub = subregions[sub_index]
                where = {"region": region_index, "subregion": sub_index}
                director = self._role(f"Sales Director {sub}", "director", "Sales", vp, **where)
                for team in range(1, size.teams + 1):
                    label = f" {team}" if size.teams > 1 else ""
                    manager = self._role(f"Sales Manager {sub}{label}", "manager", "Sales", director, **where)
                    self._role(f"Sales Rep {sub}{label}", "rep", "Sales", manager, **where)

        channel_vp = self._role("VP Channel Sales", "vp", "Sales", svp)
        channel_manager = self._role("Channel Sales Manager", "manager", "Sales", channel_vp)
        self.partner_accounts = [f"{name} Partners" for name in _PARTNER_ACCOUNTS[: size.partner_accounts]]
        for account in self.partner_accounts:
            # Portal roles come in threes per partner account, the way Salesforce creates them.
            executive = self._role(
                f"{account} Partner Executive", "executive", "Partner", channel_manager, portal=True
            )
            manager = self._role(f"{account} Partner Manager", "manager", "Partner", executive, portal=True)
            self._role(f"{account} Partner User", "staff", "Partner", manager, portal=True)

    # --- users ---

    def _username(self, local: str, domain: str | None = None) -> str:
        local = re.sub(r"[^a-z0-9.]+", "", local.lower()).strip(".") or "user"
        domain = domain or self.domain
        candidate = f"{local}@{domain}"
        for number in itertools.count(2):
            if candidate not in self.usernames:
                break
            candidate = f"{local}{number}@{domain}"
        self.usernames.add(candidate)
        return candidate

    def _user(
        self,
        first: str | None,
        last: str,
        profile: str,
        *,
        department: str,
        role: _Role | None = None,
        username: str | None = None,
        email: str | None = None,
        user_type: str | None = None,
        locale: tuple[str, str, str] = ("America/Los_Angeles", "en_US", "en_US"),
        title: str | None = None,
        active: bool = True,
        human: bool = True,
    ) -> _Person:
        rng = self.rng
        profile_record = self.profiles[profile]
        license_key = self.profile_license[profile_record["Id"]]
        username = username or self._username(f"{first}.{last}" if first else last)
        created = self._moment(_ORG_CREATED, _AS_OF - timedelta(days=20))

        # Most people log in within the month; some went stale and a few never logged in.
        draw = rng.random()
        if self.license_user_type[license_key] == "Guest":
            last_login = None  # guest users browse a site; they never log in
        elif not human:
            last_login = _AS_OF - timedelta(minutes=rng.randrange(5, 600))
        elif draw < 0.05:
            last_login = None
        elif draw < 0.15 or not active:
            last_login = self._moment(created, _AS_OF - timedelta(days=45))
        else:
            last_login = _AS_OF - timedelta(seconds=rng.randrange(30 * 86400))
        if last_login is not None and last_login < created:
            last_login = created + timedelta(hours=2)

        time_zone, locale_key, language = locale
        alias = ((first or "")[:1] + last.replace(" ", "")[:7]).lower()[:8]
        # Nicknames are unique per org while usernames only need to differ somewhere, so
        # partners and customers from other domains can collide on the local part.
        nickname = username.split("@")[0][:36]
        for number in itertools.count(2):
            if nickname not in self.nicknames:
                break
            nickname = f"{username.split('@')[0][:36]}{number}"
        self.nicknames.add(nickname)
        record = self._add(
            "User",
            Username=username,
            FirstName=first,
            LastName=last,
            Name=f"{first} {last}" if first else last,
            Email=email or username,
            Alias=alias,
            CommunityNickname=nickname,
            IsActive=active,
            UserType=self.license_user_type[license_key] if user_type is None else user_type,
            ProfileId=profile_record["Id"],
            UserRoleId=role.id if role else None,
            Title=title,
            Department=department if human else None,
            CompanyName=self.org_name if department not in ("Partner", "Customer") else None,
            TimeZoneSidKey=time_zone,
            LocaleSidKey=locale_key,
            LanguageLocaleKey=language,
            EmailEncodingKey="ISO-8859-1" if rng.random() < 0.04 else "UTF-8",
            LastLoginDate=_stamp(last_login) if last_login else None,
            CreatedDate=_stamp(created),
        )
        person = _Person(record, department, license_key, role, human=human)
        self.people.append(person)
        return person

    def _random_name(self) -> tuple[str, str]:
        return self.rng.choice(_FIRST_NAMES), self.rng.choice(_LAST_NAMES)

    def _locale_for(self, role: _Role | None) -> tuple[str, str, str]:
        if role is None or role.region is None:
            return ("America/Los_Angeles", "en_US", "en_US")
        locales = _REGIONS[role.region][2]
        return locales[(role.subregion or 0) % len(locales)]

    def _users(self) -> None:
        """Service users, then employees, partners, community customers and Chatter Free contractors."""
        self.people: list[_Person] = []
        size = self.size
        rng = self.rng
        self._service_users()
        remaining = size.users - len(self.people)
        partners = max(6, size.users * 3 // 100)
        customers = max(8, size.users * 5 // 100)
        chatter = max(6, size.users * 4 // 100)
        self._internal_users(remaining - partners - customers - chatter)
        self._partner_users(partners)
        for _ in range(customers):
            first, last = self._random_name()
            domain = f"customer{rng.randrange(1, 400)}.example"
            self._user(
                first,
                last,
                "Customer Community User",
                department="Customer",
                username=self._username(f"{first}.{last}", domain),
            )
        for _ in range(chatter):
            first, last = self._random_name()
            self._user(first, last, "Chatter Free User", department="Collaboration", title="Contractor")

        self._deactivate_and_freeze()
        self._managers()

    def _service_users(self) -> None:
        size = self.size
        noreply = f"noreply@{self.domain}"

        # Service users first: the integration user the pipeline signs in as, then the ones Salesforce adds.
        self.integration = self._user(
            self.short_name,
            "Integration",
            "System Administrator",
            department="IT",
            role=None,
            username=f"integration@{self.domain}",
            email=f"it-integrations@{self.domain}",
            title="Integration User",
            human=False,
        )
        self._user(
            "Automated",
            "Process",
            "Automated Process",
            department="IT",
            username=f"autoproc@{self.org['Id'][:15].lower()}.example",
            email=noreply,
            human=False,
        )
        self._user(
            "Integration",
            "User",
            "Analytics Cloud Integration User",
            department="IT",
            username=f"cloud.integration@{self.domain}",
            email=noreply,
            human=False,
        )
        integrations = (
            "MuleSoft Integration",
            "Data Loader Service",
            "Marketing Cloud Connector",
            "ERP Sync",
            "Slack Connector",
            "Snowflake Export",
        )
        for index in range(max(2, size.users // 1000)):
            last = integrations[index % len(integrations)]
            if index >= len(integrations):
                last = f"{last} {index // len(integrations) + 1}"
            # Integration-licence users often carry no first name and share one reply address.
            self._user(
                None,
                last,
                "Minimum Access - API Only Integrations",
                department="IT",
                email=noreply,
                human=False,
                title="Integration",
            )
        for site, profile in (
            ("Help Center", "Help Center Profile"),
            ("Partner Portal", "Partner Portal Profile"),
        ):
            self._user(
                site,
                "Site Guest User",
                profile,
                department="Customer",
                username=self._username(
                    site.replace(" ", "") + ".guest", f"{self.short_name.lower()}.force.example"
                ),
                email=noreply,
                human=False,
                active=True,
            )
        # Salesforce sometimes returns a user with an empty UserType; connectors must skip it.
        self._user("Legacy", "Import", "Standard User", department="IT", user_type="", title="Data migration")

        for _ in range(max(3, size.users // 500)):
            first, last = self._random_name()
            self._user(
                first,
                last,
                "System Administrator",
                department="IT",
                role=self.admin_role,
                title="Salesforce Administrator",
            )

    def _internal_users(self, count: int) -> None:
        """Fill every internal role once, then spread the rest with most people in the rep roles."""
        rng = self.rng
        weights = {"rep": 10.0, "staff": 3.0, "manager": 0.6, "director": 0.15}
        internal_roles = [role for role in self.roles if not role.portal and role is not self.admin_role]
        fill = internal_roles + rng.choices(
            internal_roles,
            weights=[weights.get(role.kind, 0.0) for role in internal_roles],
            k=max(count - len(internal_roles), 0),
        )
        # A few people sit outside the hierarchy: Salesforce does not require a role.
        no_role = max(2, count * 3 // 100)
        assigned: list[_Role | None] = fill[: count - no_role] + [None] * no_role
        for role in assigned:
            first, last = self._random_name()
            if rng.random() < 0.01:
                first = None  # some people only ever typed a last name
            profile, title = self._profile_for(role)
            person = self._user(
                first,
                last,
                profile,
                department=role.department if role else "General",
                role=role,
                locale=self._locale_for(role),
                title=title,
            )
            person.leader = role is not None and role.kind in ("executive", "vp", "director", "manager")

    def _profile_for(self, role: _Role | None) -> tuple[str, str | None]:
        rng = self.rng
        if role is None:
            return rng.choice(
                (
                    "Standard User",
                    "Read Only",
                    "Minimum Access - Salesforce",
                    "Standard Platform User",
                    "Solution Manager",
                    "Identity User",
                )
            ), None
        department, kind = role.department, role.kind
        title = role.name
        if department == "Sales":
            if kind == "rep":
                title = "Sales Engineer" if rng.random() < 0.1 else "Account Executive"
                profile = rng.choices(
                    ("Sales Representative", "Standard User", "Solution Manager", "Read Only"),
                    weights=(70, 20, 8, 2),
                )[0]
            else:
                profile = rng.choices(("Sales Manager", "Standard User"), weights=(80, 20))[0]
        elif department == "Sales Operations":
            profile = "Sales Ops"
        elif department == "Support":
            profile = rng.choices(("Service Agent", "Standard User"), weights=(80, 20))[0]
        elif department == "Marketing":
            profile = "Marketing User"
        elif department == "Finance":
            profile = rng.choices(("Finance Analyst", "Contract Manager"), weights=(60, 40))[0]
        elif department == "IT":
            profile = rng.choice(("System Administrator", "Standard User"))
        else:
            profile = "Standard User"
        return profile, title

    def _partner_users(self, count: int) -> None:
        rng = self.rng
        portal_roles = [role for role in self.roles if role.portal]
        weights = {"executive": 1, "manager": 2, "staff": 8}
        fill = portal_roles + rng.choices(
            portal_roles,
            weights=[weights[role.kind] for role in portal_roles],
            k=max(count - len(portal_roles), 0),
        )
        for role in fill[:count]:
            first, last = self._random_name()
            account = role.name.split(" Partners ")[0]
            domain = _developer_name(account).lower().replace("_", "") + "-partner.example"
            self._user(
                first,
                last,
                "Partner Community User",
                department="Partner",
                role=role,
                username=self._username(f"{first}.{last}", domain),
                title="Partner " + role.kind.title(),
            )

    def _deactivate_and_freeze(self) -> None:
        """About 8 % of people have left (inactive); about 1.5 % are frozen, mostly while still active."""
        rng = self.rng
        humans = [p for p in self.people if p.human and p.record["UserType"]]
        leavers = {id(p) for p in rng.sample(humans, max(3, len(humans) * 8 // 100))}
        frozen = {id(p) for p in rng.sample(humans, max(3, len(humans) * 15 // 1000))}
        # Guarantee the interesting combinations exist even in the smallest org.
        frozen.add(id(next(p for p in humans if id(p) in leavers)))
        frozen.add(id(next(p for p in humans if id(p) not in leavers)))
        for person in self.people:
            record = person.record
            if id(person) in leavers:
                record["IsActive"] = False
                if "LastLoginDate" in record and rng.random() < 0.5:
                    del record["LastLoginDate"]
            self._add(
                "UserLogin",
                UserId=record["Id"],
                IsFrozen=id(person) in frozen,
                IsPasswordLocked=rng.random() < 0.005,
            )

    def _managers(self) -> None:
        """Point each user's ManagerId at the first person in the parent role, as an HR feed would."""
        first_in_role: dict[str, dict] = {}
        for person in self.people:
            if person.role and person.role.id not in first_in_role:
                first_in_role[person.role.id] = person.record
        for person in self.people:
            parent = person.role.parent if person.role else None
            manager = first_in_role.get(parent.id) if parent else None
            if manager is not None:
                person.record["ManagerId"] = manager["Id"]

    # --- permission sets, groups and assignments ---

    def _permission_sets(self) -> None:
        self.permission_sets: dict[str, dict] = {}
        self.set_license: dict[str, str | None] = {}
        created = _ORG_CREATED + timedelta(days=60)
        for name, label, permissions, license_key, extra in _PERMISSION_SETS:
            self._regular_set(name, label, permissions, license_key, extra, created)
        self._regular_set(
            f"{self.short_name}_Integration_Access",
            f"{self.short_name} Integration Access",
            {"ApiEnabled", "ViewSetup", "ManageUsers", "CustomizeApplication", "ManageRoles", "ViewAllUsers"},
            None,
            {"Description": "The pipeline's integration user."},
            created,
        )
        combos = [(obj, level) for level in _PS_LEVELS for obj in _PS_OBJECTS]
        self.extra_sets: list[str] = []
        for index in range(self.size.extra_permission_sets):
            obj, level = combos[index % len(combos)]
            round_ = index // len(combos)
            name = f"{obj}_{level}" + (f"_{_REGIONS[round_ - 1][0].replace(' ', '_')}" if round_ else "")
            label = name.replace("_", " ")
            permissions = {"ExportReport"} if level in ("Admin", "Approver") else set()
            self._regular_set(name, label, permissions, None, {}, self._moment(created, _AS_OF))
            self.extra_sets.append(name)
        # Popularity falls off with rank, so a few extra sets are everywhere and most are niche.
        self.extra_cumulative = list(
            itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(self.extra_sets)))
        )

    def _regular_set(
        self,
        name: str,
        label: str,
        permissions: set[str],
        license_key: str | None,
        extra: dict,
        created: datetime,
    ) -> dict:
        fields = {
            "Name": name,
            "Label": label,
            "Description": f"{label} access.",
            "IsOwnedByProfile": False,
            "IsCustom": True,
            "Type": "Regular",
            "HasActivationRequired": False,
            "LicenseId": self.licenses[license_key]["Id"] if license_key else None,
            "CreatedDate": _stamp(created),
        }
        fields.update(extra)
        record = self._add("PermissionSet", **fields, **self._flags(permissions))
        self.permission_sets[name] = record
        self.set_license[name] = license_key
        return record

    def _permission_set_groups(self) -> None:
        """Each group gets its aggregate permission set, whose permissions are the union of its components."""
        self.groups_of_sets: dict[str, tuple[dict, dict, list[str]]] = {}
        definitions = list(_PERMISSION_SET_GROUPS)
        for region_index in range(self.size.regions):
            region = _REGIONS[region_index][0]
            # Region bundles draw from the org's own sets, so the bigger sizes get bigger bundles.
            pool = self.extra_sets[region_index :: self.size.regions][:4] or ["Inbox_User"]
            definitions.append(
                (
                    _developer_name(f"{region} Sales"),
                    f"{region} Sales",
                    ("Sales_Console_User", *pool),
                    f"region:{region_index}",
                )
            )
        created = _ORG_CREATED + timedelta(days=400)
        for developer_name, label, components, _audience in definitions:
            group = self._add(
                "PermissionSetGroup",
                DeveloperName=developer_name,
                MasterLabel=label,
                Description=f"{label} bundle.",
                Status="Updated",
                HasActivationRequired=False,
                Language="en_US",
                CreatedDate=_stamp(created),
            )
            permissions = {
                name[len("Permissions") :]
                for component in components
                for name, value in self.permission_sets[component].items()
                if name.startswith("Permissions") and value
            }
            aggregate = self._add(
                "PermissionSet",
                Name="X" + group["Id"][:15],
                Label=group["Id"][:15],
                IsOwnedByProfile=False,
                IsCustom=False,
                Type="Group",
                PermissionSetGroupId=group["Id"],
                HasActivationRequired=False,
                CreatedDate=group["CreatedDate"],
                **self._flags(permissions),
            )
            for component in components:
                self._add(
                    "PermissionSetGroupComponent",
                    PermissionSetGroupId=group["Id"],
                    PermissionSetId=self.permission_sets[component]["Id"],
                )
            licenses = {self.set_license[c] for c in components} - {None}
            self.groups_of_sets[developer_name] = (group, aggregate, sorted(licenses))
        self.psg_definitions = definitions

    def _assignments(self) -> None:
        """Profile-owned sets for everyone, department bundles, extras, and permission set group members."""
        rng = self.rng
        size = self.size
        psa = self.records.setdefault("PermissionSetAssignment", [])
        new_id = self.ids.new
        expiry_start, expiry_end = _AS_OF - timedelta(days=30), _AS_OF + timedelta(days=900)

        def assign(person: _Person, set_id: str, group_id: str | None = None, expires: bool = False) -> None:
            row = {
                "Id": new_id("PermissionSetAssignment"),
                "AssigneeId": person.record["Id"],
                "PermissionSetId": set_id,
            }
            if group_id:
                row["PermissionSetGroupId"] = group_id
            if expires:
                row["ExpirationDate"] = _stamp(self._moment(expiry_start, expiry_end))
            psa.append(row)

        for person in self.people:
            # Salesforce keeps one assignment per user for the profile's own permission set.
            assign(person, self.profile_sets[person.record["ProfileId"]]["Id"])

        integration_set = self.permission_sets[f"{self.short_name}_Integration_Access"]
        assign(self.integration, integration_set["Id"])
        extra_count = round(2 * size.extra_permission_set_mean)
        for person in self.people[1:]:
            if person.record["UserType"] not in ("Standard", "PowerPartner", "CspLitePortal"):
                continue
            held = set()
            for name, share in _DEPARTMENT_SETS.get(person.department, ()):
                if rng.random() < share:
                    held.add(name)
            if person.department == "IT" and "Break_Glass_Admin" not in held and rng.random() < 0.3:
                held.add("Break_Glass_Admin")
            if person.license_key in ("SFDC", "AUL") and self.extra_sets:
                draws = rng.randint(0, extra_count)
                held.update(rng.choices(self.extra_sets, cum_weights=self.extra_cumulative, k=draws))
            for name in sorted(held):
                needed = self.set_license[name]
                if needed is not None and needed != person.license_key:
                    continue  # Salesforce refuses a set whose licence differs from the user's
                # Temporary access: break-glass always expires, a few other grants do too.
                expires = name == "Break_Glass_Admin" or rng.random() < 0.02
                assign(person, self.permission_sets[name]["Id"], expires=expires)

        for developer_name, _label, _components, audience in self.psg_definitions:
            group, aggregate, licenses = self.groups_of_sets[developer_name]
            for person in self._audience(audience):
                if any(license_key != person.license_key for license_key in licenses):
                    continue
                expires = audience == "auditors" or rng.random() < 0.01
                assign(person, aggregate["Id"], group["Id"], expires)

    def _audience(self, audience: str) -> list[_Person]:
        standard = [p for p in self.people[1:] if p.record["UserType"] == "Standard"]
        if audience == "leaders":
            return [p for p in standard if p.leader and p.department in ("Sales", "Executive")]
        if audience == "auditors":
            return self.rng.sample(standard, min(len(standard), max(2, len(standard) // 400)))
        if audience.startswith("region:"):
            region = int(audience.split(":")[1])
            return [
                p
                for p in standard
                if p.role and p.role.region == region and p.department == "Sales" and self.rng.random() < 0.8
            ]
        return [p for p in standard if p.department == audience]

    # --- territories ---

    def _territories(self) -> None:
        """An active model (regions, sub-regions, segments) and a planning model drafted for next year."""
        self.territory_types = {
            label: self._add(
                "Territory2Type",
                DeveloperName=_developer_name(label),
                MasterLabel=label,
                Priority=priority,
                Description=description,
            )
            for priority, (label, description) in enumerate(
                (
                    ("Global", "Whole company"),
                    ("Region", "Sales region"),
                    ("Sub-Region", "Part of a region"),
                    ("Segment", "Customer segment within a sub-region"),
                ),
                start=1,
            )
        }
        active = self._add(
            "Territory2Model",
            Name="FY25 Sales Territories",
            DeveloperName="FY25_Sales_Territories",
            State="Active",
            ActivatedDate=_stamp(_AS_OF - timedelta(days=180)),
            Description="Territories in force this fiscal year.",
        )
        planning = self._add(
            "Territory2Model",
            Name="FY26 Planning",
            DeveloperName="FY26_Planning",
            State="Planning",
            Description="Draft for next fiscal year.",
        )
        self._active_tree(active)
        self._planning_tree(planning)
        self._territory_members()

    def _territory(self, model: dict, name: str, kind: str, parent: dict | None) -> dict:
        return self._add(
            "Territory2",
            Name=name,
            DeveloperName=_developer_name(name),
            Territory2ModelId=model["Id"],
            Territory2TypeId=self.territory_types[kind]["Id"],
            ParentTerritory2Id=parent["Id"] if parent else None,
            AccountAccessLevel="Edit",
            OpportunityAccessLevel="Read",
            CaseAccessLevel="Read",
            ContactAccessLevel="Read",
            Description=f"{kind} territory {name}.",
        )

    def _active_tree(self, model: dict) -> None:
        self.active_territories = [self._territory(model, "Global", "Global", None)]
        self.region_territories: dict[int, dict] = {}
        self.segment_territories: dict[tuple[int, int], tuple[dict, list[dict]]] = {}
        for region_index in range(self.size.regions):
            region_name, subregions, _ = _REGIONS[region_index]
            region = self._territory(model, region_name, "Region", self.active_territories[0])
            self.active_territories.append(region)
            self.region_territories[region_index] = region
            for sub_index in range(self.size.subregions):
                sub_name = subregions[sub_index]
                sub = self._territory(model, f"{region_name} {sub_name}", "Sub-Region", region)
                segments = [
                    self._territory(model, f"{sub_name} {segment}", "Segment", sub)
                    for segment in _SEGMENTS[: self.size.segments]
                ]
                self.active_territories += [sub, *segments]
                self.segment_territories[(region_index, sub_index)] = (sub, segments)

    def _planning_tree(self, model: dict) -> None:
        # Next year's draft stops at sub-regions: segments are decided after the planning round.
        root = self._territory(model, "Global FY26", "Global", None)
        self.planning_territories: dict[tuple[int, int], dict] = {}
        for region_index in range(self.size.regions):
            region_name, subregions, _ = _REGIONS[region_index]
            region = self._territory(model, f"{region_name} FY26", "Region", root)
            for sub_index in range(self.size.subregions):
                name = f"{region_name} {subregions[sub_index]} FY26"
                self.planning_territories[(region_index, sub_index)] = self._territory(
                    model, name, "Sub-Region", region
                )

    def _territory_members(self) -> None:
        """Sales people work the territories of their sub-region; leaders sit higher up."""
        rng = self.rng
        rows = self.records.setdefault("UserTerritory2Association", [])
        new_id = self.ids.new

        def associate(person: _Person, target: dict, role: str | None) -> None:
            row = {
                "Id": new_id("UserTerritory2Association"),
                "UserId": person.record["Id"],
                "Territory2Id": target["Id"],
                "IsActive": True,
            }
            if role is not None:
                row["RoleInTerritory2"] = role
            rows.append(row)

        for person in self.people:
            role = person.role
            if role is None or role.department != "Sales" or role.portal:
                continue
            if role.region is None:
                if role.kind == "manager":  # channel managers keep a retired picklist value
                    associate(person, self.active_territories[0], "Channel Manager")
                continue
            if role.kind == "vp":
                associate(person, self.region_territories[role.region], "Sales Manager")
                continue
            place = (role.region, role.subregion)
            sub, segments = self.segment_territories[place]
            if role.kind in ("director", "manager"):
                associate(person, sub, "Sales Manager")
                if rng.random() < 0.3:
                    associate(person, self.planning_territories[place], "Sales Manager")
                continue
            engineer = person.record.get("Title") == "Sales Engineer"
            for segment in rng.sample(segments, rng.randint(1, len(segments))):
                value = "Sales Engineer" if engineer else ("Sales Rep" if rng.random() < 0.9 else None)
                associate(person, segment, value)
            if rng.random() < 0.2:
                associate(person, self.planning_territories[place], rng.choice((None, "Sales Rep")))

    # --- groups ---

    def _group(self, group_type: str, developer_name: str, name: str | None = None, **fields: object) -> dict:
        return self._add(
            "Group",
            Name=name,
            DeveloperName=developer_name,
            Type=group_type,
            OwnerId=self.org["Id"],
            DoesIncludeBosses=group_type in ("Regular", "Queue"),
            DoesSendEmailToMembers=False,
            **fields,
        )

    def _system_groups(self) -> None:
        """The groups Salesforce creates itself; their Name is empty, as in a real org."""
        self.role_groups: dict[tuple[str, str], dict] = {}
        self.organization_group = self._group("Organization", "AllInternalUsers")
        self.partner_group = self._group("PRMOrganization", "AllPartnerUsers")
        self._group("AllCustomerPortal", "AllCustomerPortalUsers")
        role_records = {record["Id"]: record for record in self.records["UserRole"]}
        for role in self.roles:
            developer_name = role_records[role.id]["DeveloperName"]
            kinds = ("Role", "RoleAndSubordinates") + (
                () if role.portal else ("RoleAndSubordinatesInternal",)
            )
            for kind in kinds:
                self.role_groups[(role.name, kind)] = self._group(kind, developer_name, RelatedId=role.id)

        # Manager groups exist for managers whose sharing was configured to use them.
        leaders = [p for p in self.people if p.leader and p.record["UserType"] == "Standard"]
        for person in leaders[: max(3, len(leaders) // 20)]:
            developer_name = _developer_name(person.record["Username"].split("@")[0])
            for kind in ("Manager", "ManagerAndSubordinatesInternal"):
                self._group(kind, developer_name, RelatedId=person.record["Id"])

        self.territory_groups: dict[tuple[str, str], dict] = {}
        for record in self.active_territories:
            for kind in ("Territory", "TerritoryAndSubordinates"):
                group = self._group(kind, record["DeveloperName"], RelatedId=record["Id"])
                self.territory_groups[(record["Id"], kind)] = group

    def _public_groups(self) -> None:
        """Public groups and queues: direct users, role-derived groups, nested groups and one cycle."""
        self.group_members = self.records.setdefault("GroupMember", [])
        self.member_pairs: set[tuple[str, str]] = set()
        self.standard = [p for p in self.people[1:] if p.record["UserType"] == "Standard"]
        self.by_department: dict[str, list[_Person]] = {}
        for person in self.standard:
            self.by_department.setdefault(person.department, []).append(person)

        self._department_groups()
        self._team_groups()
        self._project_groups()
        self._queues()

    def _public(self, name: str, kind: str = "Regular") -> dict:
        return self._group(kind, _developer_name(name), name)

    def _member(self, group: dict, member_id: str) -> None:
        # Salesforce answers a duplicate GroupMember insert with the existing row, so there is never two.
        if (group["Id"], member_id) not in self.member_pairs:
            self.member_pairs.add((group["Id"], member_id))
            self.group_members.append(
                {"Id": self.ids.new("GroupMember"), "GroupId": group["Id"], "UserOrGroupId": member_id}
            )

    def _role_group(self, role_name: str, kind: str = "RoleAndSubordinates") -> str:
        return self.role_groups[(role_name, kind)]["Id"]

    def _department_groups(self) -> None:
        add = self._member
        self.all_sales = self._public("All Sales")
        add(self.all_sales, self._role_group("SVP Sales"))
        leadership = self._public("Sales Leadership")
        add(leadership, self._role_group("CEO", "Role"))
        for person in self.by_department.get("Sales", []):
            if person.role and person.role.kind in ("vp", "director"):
                add(leadership, person.record["Id"])
        executives = self._public("Executives")
        for name in ("CEO", "CFO", "COO", "SVP Sales", "CMO"):
            add(executives, self._role_group(name, "Role"))
        support = self._public("Support Team")
        add(support, self._role_group("VP Customer Support"))
        finance = self._public("Finance Team")
        add(finance, self._role_group("CFO", "RoleAndSubordinatesInternal"))
        marketing = self._public("Marketing Team")
        add(marketing, self._role_group("CMO"))
        it_admins = self._public("IT Admins")
        for person in self.by_department.get("IT", []):
            add(it_admins, person.record["Id"])
        everyone = self._public("Everyone")
        add(everyone, self.organization_group["Id"])
        partners = self._public("Partner Managers")
        add(partners, self._role_group("VP Channel Sales"))
        add(partners, self.partner_group["Id"])

        # Deal Desk and Sales Operations contain each other: Salesforce allows it and readers must cope.
        deal_desk = self._public("Deal Desk")
        sales_ops = self._public("Sales Operations")
        add(deal_desk, sales_ops["Id"])
        add(sales_ops, deal_desk["Id"])
        for person in self.by_department.get("Sales Operations", []):
            add(sales_ops, person.record["Id"])
        for person in self.by_department.get("Finance", [])[:5]:
            add(deal_desk, person.record["Id"])
        reporting = self._public("Reporting Users")
        for group in (self.all_sales, finance, marketing, leadership):
            add(reporting, group["Id"])
        reviewers = self._public("Territory Reviewers")
        for record in self.region_territories.values():
            add(reviewers, self.territory_groups[(record["Id"], "TerritoryAndSubordinates")]["Id"])

    def _team_groups(self) -> None:
        """A group per sales region (its VP's role tree) and per sub-region (its people, directly)."""
        for region_index, vp in enumerate(self.region_roles):
            region_group = self._public(f"{_REGIONS[region_index][0]} Sales")
            self._member(region_group, self._role_group(vp.name))
            self._member(self.all_sales, region_group["Id"])
        teams: dict[tuple[int, int], dict] = {}
        for person in self.by_department.get("Sales", []):
            role = person.role
            if role is None or role.subregion is None:
                continue
            key = (role.region, role.subregion)
            if key not in teams:
                teams[key] = self._public(f"{_REGIONS[role.region][1][role.subregion]} Sales Team")
                director = role
                while director.kind != "director":
                    director = director.parent
                self._member(teams[key], self._role_group(director.name))
            self._member(teams[key], person.record["Id"])

    def _project_groups(self) -> None:
        """Project groups: who is in them is anyone's guess, as in a real org."""
        rng = self.rng
        size = self.size
        projects = []
        for index in range(size.project_groups):
            codename = _PROJECT_CODENAMES[index % len(_PROJECT_CODENAMES)]
            round_ = index // len(_PROJECT_CODENAMES)
            projects.append(self._public(f"Project {codename}" + (f" {round_ + 1}" if round_ else "")))
        cumulative = list(itertools.accumulate(1 / (rank + 1) ** 0.7 for rank in range(len(projects))))
        top = round(2 * size.project_group_mean)
        for person in self.standard:
            for group in rng.choices(projects, cum_weights=cumulative, k=rng.randint(0, top)):
                self._member(group, person.record["Id"])
        role_groups = list(self.role_groups.values())
        for group in projects[:3]:
            self._member(group, rng.choice(role_groups)["Id"])
        self._member(projects[0], projects[-1]["Id"])

    def _queues(self) -> None:
        """Queues: members are users or groups, read from GroupMember like public groups."""
        rng = self.rng
        tier1 = self._public("Tier 1 Support", "Queue")
        tier2 = self._public("Tier 2 Support", "Queue")
        for person in self.by_department.get("Support", []):
            self._member(tier1 if rng.random() < 0.7 else tier2, person.record["Id"])
        self._member(tier2, self._role_group("VP Customer Support", "Role"))
        web_leads = self._public("Web Leads", "Queue")
        for vp in self.region_roles:
            self._member(web_leads, self._role_group(vp.name))
        partner_leads = self._public("Partner Leads", "Queue")
        for person in self.people:
            if person.department == "Partner" and rng.random() < 0.5:
                self._member(partner_leads, person.record["Id"])

    # --- connected apps ---

    def _connected_apps(self) -> None:
        """Apps and which permission sets open them: regular, profile-owned and one group aggregate."""
        apps = {}
        self.app_name = f"{self.short_name} Integration"
        for name, admin_only, start_url in (
            ("Salesforce for Outlook", False, None),
            ("Salesforce Mobile", False, None),
            ("Dataloader Partner", False, None),
            ("Salesforce CLI", False, None),
            (self.app_name, True, f"https://integration.{self.domain}/"),
        ):
            apps[name] = self._add(
                "ConnectedApplication",
                Name=name,
                OptionsAllowAdminApprovedUsersOnly=admin_only,
                OptionsRefreshTokenValidityMetric=admin_only,
                RefreshTokenValidityPeriod=90 if admin_only else None,
                MobileSessionTimeout=None if admin_only else "M15",
                PinLength=None if admin_only else "4",
                StartUrl=start_url,
                OptionsHasSessionLevelPolicy=False,
                CreatedDate=_stamp(_ORG_CREATED + timedelta(days=3 if not admin_only else 500)),
            )

        def profile_set(name: str) -> str:
            return self.profile_sets[self.profiles[name]["Id"]]["Id"]

        grants = (
            (self.app_name, self.permission_sets[f"{self.short_name}_Integration_Access"]["Id"]),
            (self.app_name, profile_set("System Administrator")),
            ("Salesforce for Outlook", profile_set("Standard User")),
            ("Salesforce for Outlook", profile_set("Sales Representative")),
            ("Salesforce for Outlook", self.permission_sets["Inbox_User"]["Id"]),
            ("Salesforce Mobile", self.permission_sets["Sales_Cloud_User"]["Id"]),
            ("Salesforce Mobile", self.groups_of_sets["Sales_Leadership"][1]["Id"]),
            ("Salesforce Mobile", profile_set("Sales Manager")),
            ("Dataloader Partner", self.permission_sets["Data_Loader_Access"]["Id"]),
            ("Dataloader Partner", profile_set("System Administrator")),
            ("Salesforce CLI", profile_set("System Administrator")),
        )
        for app, parent in grants:
            self._add(
                "SetupEntityAccess",
                ParentId=parent,
                SetupEntityId=apps[app]["Id"],
                SetupEntityType="ConnectedApplication",
            )

    def _license_usage(self) -> None:
        """Seats in use are the active users on each licence; the org bought some headroom."""
        used: dict[str, int] = dict.fromkeys(self.licenses, 0)
        for person in self.people:
            if person.record["IsActive"]:
                used[person.license_key] += 1
        for key, record in self.licenses.items():
            record["UsedLicenses"] = used[key]
            record["TotalLicenses"] = max(used[key] + 5, -(-used[key] * 11 // 100) * 10)

    # --- org section and credentials ---

    def _secrets(self) -> dict:
        rng = random.Random(f"demo-org-secrets:{self.seed}")
        return {
            "username": self.integration.record["Username"],
            "password": _token(rng, 20, _PASSWORD_CHARS),
            "security_token": _token(rng, 24),
            "consumer_key": "3MVG9" + _token(rng, 80, string.ascii_letters + string.digits + "._"),
            "consumer_secret": _token(rng, 64, string.digits + "ABCDEF"),
            "private_key_pem": _private_key_pem(),
            "refresh_token": "5Aep861" + _token(rng, 80, string.ascii_letters + string.digits + "._"),
        }

    def _org_section(self, secrets: dict) -> dict:
        username = secrets["username"]
        return {
            "territory_management": True,
            "api_enabled": True,
            "daily_api_limit": 100_000 + 1_000 * self.size.users,
            "session_seconds": 7200,
            "picklists": {"UserTerritory2Association.RoleInTerritory2": [dict(v) for v in _TERRITORY_ROLES]},
            "validation_rules": [],
            "credentials": [
                {
                    "username": username,
                    "password": secrets["password"],
                    "security_token": secrets["security_token"],
                }
            ],
            "oauth_apps": [
                {
                    "name": self.app_name,
                    "consumer_key": secrets["consumer_key"],
                    "consumer_secret": secrets["consumer_secret"],
                    "certificate": _certificate_pem(self.app_name, 1000 + self.seed),
                    "permitted_users": "admin_approved",
                    "approved_usernames": [username],
                    "client_credentials_user": username,
                    "refresh_tokens": [{"token": secrets["refresh_token"], "username": username}],
                }
            ],
        }
