"""What every provisioning action shares: the request, Salesforce ids, SOQL reads and planned changes.

An action is resolved once (its parameters checked against the org) and then planned: a plan reads the
current state and lists the writes that would bring Salesforce to the requested state. An empty plan
means there is nothing to do, which is how every action is idempotent, and re-planning after the writes
is how each change is verified.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from salesforce_access.errors import ProvisioningRejected

if TYPE_CHECKING:
    from salesforce_access.client import SalesforceClient

ACTIONS = ("grant", "revoke", "create_account", "update_user_status", "delete_account")
SALESFORCE_ID = r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$"
RESOURCE_TYPES = (
    "group", "role", "permission", "permission_set_group", "profile", "territory", "connected_application",
)  # fmt: skip
ENTITLEMENT_ID = (
    r"^(" + "|".join(RESOURCE_TYPES) + r"):[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?:(member|assigned|access|role:.+)$"
)
# Key prefixes, to tell a person what kind of record an id they gave belongs to.
OBJECT_BY_PREFIX = {
    "005": "User",
    "00G": "Group",
    "00E": "UserRole",
    "00e": "Profile",
    "0PS": "PermissionSet",
    "0PG": "PermissionSetGroup",
    "0MI": "Territory2",
    "0H4": "ConnectedApplication",
    "00D": "Organization",
    "0Pa": "PermissionSetAssignment",
    "011": "GroupMember",
    "0R0": "UserTerritory2Association",
    "100": "UserLicense",
}
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_BODY = re.compile(r"^[a-zA-Z0-9]{15}$")


@dataclass(frozen=True)
class Request:
    """One provisioning request: the DAG run's parameters, as given."""

    request_id: str
    action: str
    salesforce_conn_id: str = "salesforce_default"
    entitlement_id: str | None = None
    user_id: str | None = None
    is_active: bool | None = None
    account: dict[str, Any] | None = None
    dry_run: bool = False

    @classmethod
    def from_params(cls, request_id: str, params: dict[str, Any]) -> Request:
        def text(name: str) -> str | None:
            value = params.get(name)
            return value.strip() if isinstance(value, str) and value.strip() else None

        return cls(
            request_id=request_id,
            action=str(params.get("action") or ""),
            salesforce_conn_id=text("salesforce_conn_id") or "salesforce_default",
            entitlement_id=text("entitlement_id"),
            user_id=text("user_id"),
            is_active=params.get("is_active"),
            account=params.get("account"),
            dry_run=bool(params.get("dry_run")),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Operation:
    """One write: create a record, update fields of one, or delete one."""

    operation: str
    sobject: str
    record_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        change: dict[str, Any] = {"operation": self.operation, "sobject": self.sobject}
        if self.record_id:
            change["record_id"] = self.record_id
        if self.values:
            change["values"] = self.values
        if self.before:
            change["before"] = self.before
        return change


@dataclass
class Plan:
    """What an action would do now: ``outcome`` names the result once ``operations`` are applied, or,
    when there are none, why nothing needs doing (``already_granted``...)."""

    outcome: str
    operations: list[Operation] = field(default_factory=list)
    record_id: str | None = None
    user_id: str | None = None


def checksum(body: str) -> str:
    """The three characters Salesforce appends to a 15-character id to make it case-insensitive."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, char in enumerate(body[start : start + 5]) if "A" <= char <= "Z")
        suffix += _CHECKSUM_ALPHABET[bits]
    return suffix


def checked_id(value: str, parameter: str, *, expected: str | None = None) -> str:
    """Return ``value`` as an 18-character Salesforce id of object ``expected``, or reject it.

    Raises:
        ProvisioningRejected: not an id, a mistyped 18-character id, or an id of another object.
    """
    body = value[:15]
    if not _ID_BODY.match(body) or len(value) not in (15, 18):
        raise ProvisioningRejected(
            f"Parameter {parameter}: {value!r} is not a Salesforce id (15 or 18 letters and digits). Copy "
            "the id from the record's URL in Salesforce.",
            parameter=parameter,
            error_code="INVALID_PARAMETER",
        )
    full = body + checksum(body)
    if len(value) == 18 and value[15:].upper() != full[15:]:
        raise ProvisioningRejected(
            f"Parameter {parameter}: {value!r} is not a valid 18-character Salesforce id (its last three "
            f"characters should be {full[15:]!r}); a character was probably mistyped. Copy the id again.",
            parameter=parameter,
            error_code="INVALID_PARAMETER",
        )
    if expected and OBJECT_BY_PREFIX.get(body[:3]) != expected:
        kind = OBJECT_BY_PREFIX.get(body[:3])
        described = f"a {kind} id (prefix {body[:3]})" if kind else f"an id with prefix {body[:3]}"
        raise ProvisioningRejected(
            f"Parameter {parameter}: {value!r} is {described}, not a {expected} id (prefix "
            f"{_prefix_of(expected)}).",
            parameter=parameter,
            error_code="WRONG_ID_TYPE",
        )
    return full


def _prefix_of(sobject: str) -> str:
    return next(prefix for prefix, name in OBJECT_BY_PREFIX.items() if name == sobject)


def soql_text(value: str) -> str:
    """A SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def query(client: SalesforceClient, soql: str, *, context: str) -> list[dict[str, Any]]:
    """Every record of a small query, with Salesforce's ``attributes`` removed."""
    records: list[dict[str, Any]] = []
    for page in client.query_pages(soql, context=context):
        records.extend(plain(record) for record in page)
    return records


def plain(record: dict[str, Any]) -> dict[str, Any]:
    return {
        key: plain(value) if isinstance(value, dict) else value
        for key, value in record.items()
        if key != "attributes"
    }


def user_by_id(client: SalesforceClient, user_id: str) -> dict[str, Any] | None:
    rows = query(
        client,
        "SELECT Id, Username, Name, IsActive, UserType, ProfileId, UserRoleId, Profile.Name, "
        f"Profile.UserLicenseId, Profile.UserLicense.Name FROM User WHERE Id = {soql_text(user_id)}",
        context="reading the user",
    )
    return rows[0] if rows else None
