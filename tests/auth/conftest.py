"""A local org built for sign-in tests: apps for every flow and users in every state that breaks one."""

from __future__ import annotations

import datetime
import json
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from local_salesforce.ids import KEY_PREFIXES, checksum


def _id(object_name: str, number: int) -> str:
    body = f"{KEY_PREFIXES[object_name]}{number:012d}"
    return body + checksum(body)


def _key_and_certificate(common_name: str) -> tuple[str, str]:
    """Return a fresh RSA private key (PEM) and a self-signed certificate for it (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Acme:
    """What the tests know about the org: ids, usernames, keys and secrets of its apps."""

    org_id: str = _id("Organization", 1)
    admin: str = "admin@acme.test"
    integration: str = "integration@acme.test"
    limited: str = "limited@acme.test"
    no_api: str = "noapi@acme.test"
    locked: str = "locked@acme.test"
    frozen: str = "frozen@acme.test"
    inactive: str = "inactive@acme.test"
    unapproved: str = "unapproved@acme.test"
    bundled: str = "bundled@acme.test"
    user_ids: dict[str, str] = field(default_factory=dict)
    password: str = "Correct-Horse-7"
    security_token: str = "tokENabc123XYZ"
    jwt_key: str = "3MVGjwtConsumerKeyForTheLocalOrg"
    cc_key: str = "3MVGccConsumerKeyForTheLocalOrg"
    cc_secret: str = "cc-secret-8F1D2E"
    no_run_as_key: str = "3MVGccWithoutRunAsUser"
    oauth_key: str = "3MVGwebServerFlowConsumerKey"
    oauth_secret: str = "oauth-secret-77AA"
    refresh_token: str = "5Aep861goodRefreshTokenForIntegration"
    revoked_refresh_token: str = "5Aep861revokedRefreshToken"
    private_key: str = ""
    other_private_key: str = ""
    private_key_path: str = ""
    fixture: dict = field(default_factory=dict)


def _build(tmp: Path) -> Acme:
    acme = Acme()
    acme.private_key, certificate = _key_and_certificate("pipeline-jwt")
    acme.other_private_key, _ = _key_and_certificate("someone-else")
    key_file = tmp / "jwt-private-key.pem"
    key_file.write_text(acme.private_key)
    key_file.chmod(0o600)
    acme.private_key_path = str(key_file)

    licence = _id("UserLicense", 1)
    profiles = {"admin": _id("Profile", 1), "integration": _id("Profile", 2), "minimum": _id("Profile", 3)}
    full = {
        "PermissionsApiEnabled": True,
        "PermissionsViewSetup": True,
        "PermissionsManageUsers": True,
        "PermissionsCustomizeApplication": True,
        "PermissionsManageRoles": True,
        "PermissionsManageTerritories": True,
    }
    permission_sets = [
        # Each profile's own permission set carries the profile's system permissions.
        {"Id": _id("PermissionSet", 1), "Name": "X00e_admin", "Label": "System Administrator",
         "IsOwnedByProfile": True, "ProfileId": profiles["admin"], "Type": "Profile",
         **full, "PermissionsModifyAllData": True},
        {"Id": _id("PermissionSet", 2), "Name": "X00e_integration", "Label": "Integration",
         "IsOwnedByProfile": True, "ProfileId": profiles["integration"], "Type": "Profile",
         "PermissionsApiEnabled": True},
        {"Id": _id("PermissionSet", 3), "Name": "X00e_minimum", "Label": "Minimum Access",
         "IsOwnedByProfile": True, "ProfileId": profiles["minimum"], "Type": "Profile"},
        {"Id": _id("PermissionSet", 4), "Name": "Connector_Access", "Label": "Connector Access",
         "Type": "Regular", "IsCustom": True, **full},
    ]  # fmt: skip

    people = [
        ("admin", acme.admin, "admin", True),
        ("integration", acme.integration, "integration", True),
        ("limited", acme.limited, "integration", True),
        ("noapi", acme.no_api, "minimum", True),
        ("locked", acme.locked, "integration", True),
        ("frozen", acme.frozen, "integration", True),
        ("inactive", acme.inactive, "integration", False),
        ("unapproved", acme.unapproved, "integration", True),
        ("bundled", acme.bundled, "minimum", True),
    ]
    users, logins = [], []
    for number, (last_name, username, profile, active) in enumerate(people, start=1):
        user_id = _id("User", number)
        acme.user_ids[username] = user_id
        users.append({
            "Id": user_id, "Username": username, "LastName": last_name.title(), "FirstName": "Test",
            "Email": username, "Alias": last_name[:8], "IsActive": active, "ProfileId": profiles[profile],
            "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
            "LanguageLocaleKey": "en_US",
        })  # fmt: skip
        logins.append({
            "Id": _id("UserLogin", number), "UserId": user_id,
            "IsPasswordLocked": username == acme.locked, "IsFrozen": username == acme.frozen,
        })  # fmt: skip
    assignments = [
        {"Id": _id("PermissionSetAssignment", 1), "AssigneeId": acme.user_ids[acme.integration],
         "PermissionSetId": _id("PermissionSet", 4)},
        {"Id": _id("PermissionSetAssignment", 2), "AssigneeId": acme.user_ids[acme.locked],
         "PermissionSetId": _id("PermissionSet", 4)},
        {"Id": _id("PermissionSetAssignment", 3), "AssigneeId": acme.user_ids[acme.frozen],
         "PermissionSetId": _id("PermissionSet", 4)},
        # A permission set group holding the connector's set: its members get the set's permissions.
        {"Id": _id("PermissionSetAssignment", 4), "AssigneeId": acme.user_ids[acme.bundled],
         "PermissionSetGroupId": _id("PermissionSetGroup", 1)},
    ]  # fmt: skip

    approved = [
        acme.integration,
        acme.limited,
        acme.no_api,
        acme.locked,
        acme.frozen,
        acme.inactive,
        acme.bundled,
    ]
    acme.fixture = {
        "format": 1,
        "org": {
            "credentials": [
                {"username": name, "password": acme.password, "security_token": acme.security_token}
                for name in (acme.integration, acme.limited, acme.no_api, acme.locked)
            ],
            "oauth_apps": [
                {"name": "pipeline-jwt", "consumer_key": acme.jwt_key, "consumer_secret": "jwt-unused",
                 "certificate": certificate, "permitted_users": "admin_approved",
                 "approved_usernames": approved},
                {"name": "pipeline-cc", "consumer_key": acme.cc_key, "consumer_secret": acme.cc_secret,
                 "permitted_users": "all", "client_credentials_user": acme.integration},
                {"name": "pipeline-cc-no-run-as", "consumer_key": acme.no_run_as_key,
                 "consumer_secret": acme.cc_secret, "permitted_users": "all",
                 "client_credentials_user": None},
                {"name": "pipeline-web", "consumer_key": acme.oauth_key, "consumer_secret": acme.oauth_secret,
                 "permitted_users": "all", "approved_usernames": [acme.integration],
                 "refresh_tokens": [
                     {"token": acme.refresh_token, "username": acme.integration},
                     {"token": acme.revoked_refresh_token, "username": acme.integration, "revoked": True},
                 ]},
            ],
        },
        "records": {
            "Organization": [{"Id": acme.org_id, "Name": "Acme Test", "IsSandbox": False,
                              "OrganizationType": "Enterprise Edition", "InstanceName": "NA1"}],
            "UserLicense": [{"Id": licence, "Name": "Salesforce", "MasterLabel": "Salesforce",
                             "LicenseDefinitionKey": "SFDC", "Status": "Active", "TotalLicenses": 50}],
            "Profile": [
                {"Id": profiles["admin"], "Name": "System Administrator", "UserLicenseId": licence},
                {"Id": profiles["integration"], "Name": "Integration", "UserLicenseId": licence},
                {"Id": profiles["minimum"], "Name": "Minimum Access", "UserLicenseId": licence},
            ],
            "PermissionSet": permission_sets,
            "User": users,
            "UserLogin": logins,
            "PermissionSetAssignment": assignments,
            "PermissionSetGroup": [{"Id": _id("PermissionSetGroup", 1), "DeveloperName": "Connector_Bundle",
                                    "MasterLabel": "Connector Bundle"}],
            "PermissionSetGroupComponent": [{"Id": _id("PermissionSetGroupComponent", 1),
                                             "PermissionSetGroupId": _id("PermissionSetGroup", 1),
                                             "PermissionSetId": _id("PermissionSet", 4)}],
        },
    }  # fmt: skip
    return acme


@pytest.fixture(scope="session")
def acme(tmp_path_factory) -> Acme:
    return _build(tmp_path_factory.mktemp("acme"))


@pytest.fixture(scope="session")
def _local_org(acme):
    from local_salesforce.testing import start_local_org

    org = start_local_org(fixture=acme.fixture)
    # This machine exports REQUESTS_CA_BUNDLE, which requests lets override the control client's own
    # CA bundle; until local_salesforce.testing.Control ignores the environment, make it do so here.
    org.control._http.trust_env = False
    yield org
    org.stop()


@pytest.fixture
def org(_local_org):
    """The running org, put back to its fixture (switches, sessions, journal) after each test."""
    yield _local_org
    _local_org.control.reset()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def airflow_connection(monkeypatch):
    """Define an Airflow connection through its AIRFLOW_CONN_ variable, as a deployment would."""

    def define(
        conn_id: str, *, login: str | None = None, password: str | None = None, **extra: object
    ) -> str:
        value = {"conn_type": "salesforce", "login": login, "password": password, "extra": extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))
        return conn_id

    return define
