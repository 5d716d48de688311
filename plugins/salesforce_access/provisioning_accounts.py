"""Accounts: create (or reactivate) a user, and change whether a user is active.

An account is matched on its username, which Salesforce keeps unique, never on the email, which many
users share. An existing active user is reported and left alone: no field is changed and no password is
reset. Users are never deleted: Salesforce does not allow it, deactivation is the way out.
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from typing import TYPE_CHECKING, Any

from salesforce_access.errors import ProvisioningRejected
from salesforce_access.provisioning_base import OBJECT_BY_PREFIX, Operation, Plan, Request, query, soql_text

if TYPE_CHECKING:
    from salesforce_access.client import SalesforceClient

log = logging.getLogger(__name__)

REQUIRED_KEYS = ("email", "first_name", "last_name", "alias", "profile", "time_zone")
OPTIONAL_KEYS = ("username", "locale", "language", "email_encoding", "fields")
DEFAULTS = {"locale": "en_US", "language": "en_US", "email_encoding": "UTF-8"}
# Account keys and the User fields they fill; Salesforce's errors name fields, messages name keys.
FIELD_OF_KEY = {
    "username": "Username",
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "alias": "Alias",
    "time_zone": "TimeZoneSidKey",
    "locale": "LocaleSidKey",
    "language": "LanguageLocaleKey",
    "email_encoding": "EmailEncodingKey",
    "profile": "ProfileId",
}
KEY_OF_FIELD = {value: key for key, value in FIELD_OF_KEY.items()}
MAX_LENGTHS = {"username": 80, "email": 128, "first_name": 40, "last_name": 80, "alias": 8}
EMAIL_ENCODINGS = (
    "UTF-8", "ISO-8859-1", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "ks_c_5601-1987", "Big5", "GB2312",
    "Big5-HKSCS", "x-SJIS_0213",
)  # fmt: skip
# Fields a request may not pass through: set by Salesforce, by this action itself, or secrets.
FORBIDDEN_FIELDS = {"Id", "IsActive", "UserType", "Name", "CreatedDate", "LastLoginDate"}
SECRET_NAME = re.compile(r"password|secret|token|private_?key|credential", re.IGNORECASE)
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*$")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ID = re.compile(r"^00e[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$")


def _reject(key: str, message: str, code: str = "INVALID_PARAMETER") -> ProvisioningRejected:
    return ProvisioningRejected(
        f"Parameter account.{key}: {message}", parameter=f"account.{key}", error_code=code
    )


# -- create_account ---------------------------------------------------------------------------------------


def check_account(account: Any) -> dict[str, Any]:
    """Check the ``account`` parameter before any call to Salesforce; return it with defaults filled in.

    Raises:
        ProvisioningRejected: a key is missing, unknown, too long or malformed; the message names it.
    """
    if not isinstance(account, dict):
        raise ProvisioningRejected(
            f"Parameter account: create_account needs an object with {', '.join(REQUIRED_KEYS)}; got "
            f"{account!r}.",
            parameter="account",
            error_code="MISSING_PARAMETER",
        )
    unknown = sorted(set(account) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise ProvisioningRejected(
            f"Parameter account: unknown key(s) {', '.join(unknown)}; the keys are "
            f"{', '.join(REQUIRED_KEYS)} and optionally {', '.join(OPTIONAL_KEYS)}. Other Salesforce fields "
            "go under account.fields by API name.",
            parameter="account",
            error_code="INVALID_PARAMETER",
        )
    missing = [
        key for key in REQUIRED_KEYS if not (isinstance(account.get(key), str) and account[key].strip())
    ]
    if missing:
        raise _reject(
            missing[0],
            f"is required for create_account (missing: {', '.join(missing)}).",
            "MISSING_PARAMETER",
        )
    checked = {key: value.strip() for key, value in account.items() if isinstance(value, str)}
    for key in ("username", "locale", "language", "email_encoding"):
        if key in account and account[key] is not None and not isinstance(account[key], str):
            raise _reject(key, f"must be text, got {account[key]!r}.")
    checked = {**DEFAULTS, **{k: v for k, v in checked.items() if v}}
    checked.setdefault("username", checked["email"])
    checked["username"] = checked["username"].lower()

    for key, limit in MAX_LENGTHS.items():
        if len(checked[key]) > limit:
            raise _reject(
                key,
                f"{checked[key]!r} is {len(checked[key])} characters; Salesforce allows at most {limit}. "
                "Shorten it.",
            )
    if not _EMAIL.match(checked["email"]):
        raise _reject("email", f"{checked['email']!r} is not an email address.")
    if not _EMAIL.match(checked["username"]):
        raise _reject(
            "username",
            f"{checked['username']!r} is not in the form of an email address, which Salesforce requires of "
            "usernames (it need not be a real mailbox).",
        )
    zones = zoneinfo.available_timezones()
    if zones and checked["time_zone"] not in zones:
        raise _reject(
            "time_zone",
            f"{checked['time_zone']!r} is not a time zone name; use an IANA name such as America/New_York.",
        )
    for key in ("locale", "language"):
        if not _LOCALE.match(checked[key]):
            raise _reject(key, f"{checked[key]!r} is not a Salesforce locale code such as en_US.")
    if checked["email_encoding"] not in EMAIL_ENCODINGS:
        raise _reject(
            "email_encoding", f"{checked['email_encoding']!r} is not one of {', '.join(EMAIL_ENCODINGS)}."
        )
    checked["fields"] = _checked_fields(account.get("fields"))
    return checked


def _checked_fields(fields: Any) -> dict[str, Any]:
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        raise _reject("fields", f"must be an object of Salesforce field API names to values, got {fields!r}.")
    passed: dict[str, Any] = {}
    for name, value in fields.items():
        key = f"fields.{name}"
        if not _FIELD_NAME.match(name):
            raise _reject(
                key, "is not a Salesforce field API name (letters, digits and _, e.g. FederationIdentifier)."
            )
        if SECRET_NAME.search(name):
            # The value is a secret: it is neither shown nor sent.
            raise _reject(
                key,
                "cannot be set here; passwords and secrets are never passed through provisioning. The user "
                "sets a password from Salesforce's welcome email or a reset by an admin.",
            )
        if name in KEY_OF_FIELD:
            raise _reject(key, f"duplicates account.{KEY_OF_FIELD[name]}; set it there instead.")
        if name in FORBIDDEN_FIELDS:
            raise _reject(key, f"{name} is set by Salesforce or by this action and cannot be passed through.")
        if isinstance(value, dict | list):
            raise _reject(key, f"must be text, a number or true/false, got {value!r}.")
        if value is not None:  # null means "not given"
            passed[name] = value
    return passed


def resolve_create_account(client: SalesforceClient, request: Request) -> dict[str, Any]:
    """Check the account against the org (the profile exists) and build the User record to insert.

    Raises:
        ProvisioningRejected: the profile is unknown or ambiguous.
    """
    account = check_account(request.account)
    profile = _find_profile(client, account["profile"])
    values = {
        # Extra fields first so that the named keys always win.
        **account["fields"],
        "Username": account["username"],
        "Email": account["email"],
        "FirstName": account["first_name"],
        "LastName": account["last_name"],
        "Alias": account["alias"],
        "TimeZoneSidKey": account["time_zone"],
        "LocaleSidKey": account["locale"],
        "LanguageLocaleKey": account["language"],
        "EmailEncodingKey": account["email_encoding"],
        "ProfileId": profile["Id"],
    }
    return {
        "username": account["username"],
        "values": values,
        "profile_name": profile["Name"],
        "license_name": (profile.get("UserLicense") or {}).get("Name"),
    }


def _find_profile(client: SalesforceClient, given: str) -> dict[str, Any]:
    by_id = bool(_ID.match(given))
    where = f"Id = {soql_text(given)}" if by_id else f"Name = {soql_text(given)}"
    rows = query(
        client,
        f"SELECT Id, Name, UserType, UserLicense.Name FROM Profile WHERE {where} ORDER BY Id",
        context="reading the profile",
    )
    if not rows:
        how = "id" if by_id else "name"
        raise _reject(
            "profile",
            f"no profile with {how} {given!r} in this org. Give a profile's id (00e...) or exact name.",
            "UNKNOWN_PROFILE",
        )
    if len(rows) > 1:
        raise _reject(
            "profile",
            f"{len(rows)} profiles are named {given!r} ({', '.join(r['Id'] for r in rows)}); give the id "
            "instead.",
        )
    return rows[0]


def plan_create_account(client: SalesforceClient, request: Request, target: dict[str, Any]) -> Plan:
    """Create the user, reactivate an inactive one with the same username, or find it there already."""
    rows = query(
        client,
        f"SELECT Id, Username, IsActive FROM User WHERE Username = {soql_text(target['username'])}",
        context="looking for an existing user",
    )
    if not rows:
        return Plan("created", [Operation("create", "User", values=target["values"])])
    user = rows[0]
    if user.get("IsActive"):
        return Plan("already_exists", record_id=user["Id"], user_id=user["Id"])
    # Only the active flag changes: the existing user keeps its profile, fields and password.
    return Plan(
        "reactivated",
        [Operation("update", "User", user["Id"], values={"IsActive": True}, before={"IsActive": False})],
        user["Id"],
        user_id=user["Id"],
    )


# -- update_user_status -----------------------------------------------------------------------------------


def resolve_user_status(
    request: Request, user: dict[str, Any], integration_user_id: str | None
) -> dict[str, Any]:
    """Refuse to deactivate the very user the connection signs in as.

    Raises:
        ProvisioningRejected: the request would lock the pipeline out of the org.
    """
    if request.is_active is False and integration_user_id and user["Id"][:15] == integration_user_id[:15]:
        raise ProvisioningRejected(
            f"Parameter user_id: {user['Id']} is {user['Username']!r}, the integration user this connection "
            "signs in as; deactivating it would stop every sync and provisioning run of this org. "
            "Deactivate it in Salesforce Setup if that is really meant.",
            parameter="user_id",
            error_code="NOT_PROVISIONABLE",
        )
    return {"username": user["Username"]}


def plan_user_status(client: SalesforceClient, request: Request, target: dict[str, Any]) -> Plan:
    assert request.user_id and request.is_active is not None
    rows = query(
        client,
        f"SELECT Id, IsActive FROM User WHERE Id = {soql_text(request.user_id)}",
        context="reading the user",
    )
    current = bool(rows[0]["IsActive"]) if rows else None
    if current == request.is_active:
        outcome = "already_active" if current else "already_inactive"
        return Plan(outcome, record_id=request.user_id, user_id=request.user_id)
    return Plan(
        "activated" if request.is_active else "deactivated",
        [
            Operation(
                "update",
                "User",
                request.user_id,
                values={"IsActive": request.is_active},
                before={"IsActive": current},
            )
        ],
        request.user_id,
        user_id=request.user_id,
    )


def refusal_parameter(field: str) -> str:
    """The request parameter that fills a User field Salesforce complained about."""
    if field in KEY_OF_FIELD:
        return f"account.{KEY_OF_FIELD[field]}"
    return f"account.fields.{field}"


def describe_prefix(record_id: str) -> str:
    return OBJECT_BY_PREFIX.get(record_id[:3], "record")
