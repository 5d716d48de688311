"""The org's state: switches, records and the indexes the business rules need.

Records are plain dicts keyed by canonical field name, stored in per-object tables keyed by 18-char id.
Values are kept in their wire form (datetimes as `2024-01-02T03:04:05.000+0000`), so query output
needs no conversion. All mutation goes through `insert`, `update` and `delete`, which keep the
indexes right and return an undo entry, so sObject Collections can roll back an allOrNone batch.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
import threading
from typing import Any

from local_salesforce import schema
from local_salesforce.errors import FixtureError
from local_salesforce.ids import OBJECT_BY_PREFIX, IdGenerator
from local_salesforce.values import normalize_date, normalize_datetime

logger = logging.getLogger(__name__)

DEFAULT_AUDIT_DATE = "2024-01-01T00:00:00.000+0000"

ORG_DEFAULTS: dict[str, Any] = {
    "territory_management": False,
    "api_enabled": True,
    "daily_api_limit": 100000,
    "session_seconds": 7200,
    "max_api_version": "66.0",
    "picklists": {},
    "validation_rules": [],
    "credentials": [],
    "oauth_apps": [],
    # Extensions (documented in FIXTURES.md):
    "soap_login_enabled": True,
    "other_org_usernames": [],
    "page_size_cap": 2000,
    "locators_bound_to_session": True,
    "profile_owned_psa_error": "FIELD_INTEGRITY_EXCEPTION",
    "psg_recalc_seconds": 0.0,
}
# Switches that the control API may change at runtime.
SWITCHES = frozenset(ORG_DEFAULTS) - {"credentials", "oauth_apps"}

# Licence definition keys whose users are not Standard (User.UserType is computed from the licence).
_USER_TYPE_BY_LICENCE_PREFIX = (
    ("PID_Customer_Community_Plus", "PowerCustomerSuccess"),
    ("PID_Customer_Community", "CspLitePortal"),
    ("PID_Partner_Community", "PowerPartner"),
    ("POWER_PRM", "PowerPartner"),
    ("POWER_SSP", "PowerCustomerSuccess"),
    ("PID_CHATTER", "CsnOnly"),
    ("PID_Chatter", "CsnOnly"),
    ("PID_Guest", "Guest"),
)


def user_type_for_licence(key: str | None) -> str:
    for prefix, user_type in _USER_TYPE_BY_LICENCE_PREFIX:
        if key and key.startswith(prefix):
            return user_type
    return "Standard"


class Store:
    """Everything the org knows. Callers hold `lock` around any read-modify-write sequence."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.org: dict[str, Any] = dict(ORG_DEFAULTS)
        self.tables: dict[str, dict[str, dict]] = {name: {} for name in schema.OBJECTS}
        self.deleted: dict[str, dict[str, dict]] = {name: {} for name in schema.OBJECTS}
        self.ids = IdGenerator(seed=7919)
        self.usernames: dict[str, str] = {}  # lower-case username -> user id
        self.psa_by_assignee: dict[str, set[str]] = {}
        self.psa_pairs: dict[tuple[str, str], str] = {}  # (assignee, permission set) -> PSA id
        self.member_pairs: dict[tuple[str, str], str] = {}  # (group, user or group) -> GroupMember id
        self.territory_pairs: dict[tuple[str, str], str] = {}  # (user, territory) -> association id
        self.tombstones: set[str] = set()  # ids deleted through the API, for ENTITY_IS_DELETED
        self.recalculations: dict[str, float] = {}  # permission set group id -> when it is Updated again
        self.generation = 0  # bumps on every mutation; caches key on it
        self._cache: dict[tuple, tuple[int, Any]] = {}

    # ---- reading -------------------------------------------------------------------------------

    @property
    def org_id(self) -> str:
        orgs = self.tables["Organization"]
        return next(iter(orgs)) if orgs else "00D000000000001AAA"

    def get(self, object_name: str, record_id: str) -> dict | None:
        return self.tables[object_name].get(record_id)

    def find(self, record_id: str) -> tuple[str, dict] | None:
        """Find a record of any object by its 18-char id."""
        object_name = OBJECT_BY_PREFIX.get(record_id[:3])
        if object_name is None:
            return None
        record = self.tables[object_name].get(record_id)
        return (object_name, record) if record is not None else None

    def rows_by_id(self, object_name: str) -> list[dict]:
        """The object's records in Id order (cached until the next mutation; callers must not modify it)."""
        return self._cached(
            ("rows", object_name), lambda: [t[k] for t in (self.tables[object_name],) for k in sorted(t)]
        )

    def index(self, object_name: str, field_name: str) -> dict[Any, list[dict]]:
        """Records by the value of one field, each list in Id order (cached until the next mutation)."""

        def build() -> dict[Any, list[dict]]:
            index: dict[Any, list[dict]] = {}
            for record in self.rows_by_id(object_name):
                index.setdefault(record.get(field_name), []).append(record)
            return index

        return self._cached(("index", object_name, field_name), build)

    def _cached(self, key: tuple, build: Any) -> Any:
        hit = self._cache.get(key)
        if hit is not None and hit[0] == self.generation:
            return hit[1]
        value = build()
        self._cache[key] = (self.generation, value)
        return value

    def user_by_username(self, username: str) -> dict | None:
        user_id = self.usernames.get(username.lower())
        return self.tables["User"].get(user_id) if user_id else None

    def licence_of_profile(self, profile_id: str | None) -> dict | None:
        profile = self.tables["Profile"].get(profile_id or "")
        return self.tables["UserLicense"].get(profile.get("UserLicenseId") or "") if profile else None

    def profile_permission_set(self, profile_id: str) -> dict | None:
        for permission_set in self.tables["PermissionSet"].values():
            if permission_set.get("IsOwnedByProfile") and permission_set.get("ProfileId") == profile_id:
                return permission_set
        return None

    def group_permission_set(self, group_id: str) -> dict | None:
        for permission_set in self.tables["PermissionSet"].values():
            if (
                permission_set.get("PermissionSetGroupId") == group_id
                and permission_set.get("Type") == "Group"
            ):
                return permission_set
        return None

    def effective_permissions(self, user_id: str) -> frozenset[str]:
        """Permissions* granted by every permission set the user holds, its profile's own included."""
        granted: set[str] = set()
        for psa_id in self.psa_by_assignee.get(user_id, ()):
            assignment = self.tables["PermissionSetAssignment"][psa_id]
            permission_set = self.tables["PermissionSet"].get(assignment["PermissionSetId"] or "")
            if permission_set:
                granted.update(name for name in schema.PERMISSIONS if permission_set.get(name))
            # A permission set group grants what its component sets grant.
            group_id = assignment.get("PermissionSetGroupId")
            if group_id:
                for component in self.tables["PermissionSetGroupComponent"].values():
                    if component["PermissionSetGroupId"] == group_id:
                        member = self.tables["PermissionSet"].get(component["PermissionSetId"])
                        if member:
                            granted.update(name for name in schema.PERMISSIONS if member.get(name))
        return frozenset(granted)

    def used_licences(self, licence_id: str, excluding_user: str | None = None) -> int:
        profiles = {pid for pid, p in self.tables["Profile"].items() if p.get("UserLicenseId") == licence_id}
        return sum(
            1
            for uid, user in self.tables["User"].items()
            if user.get("IsActive") and user.get("ProfileId") in profiles and uid != excluding_user
        )

    def refresh_licence_counts(self) -> None:
        counts: dict[str, int] = {}
        licence_of = {pid: p.get("UserLicenseId") for pid, p in self.tables["Profile"].items()}
        for user in self.tables["User"].values():
            if user.get("IsActive"):
                licence = licence_of.get(user.get("ProfileId"))
                if licence:
                    counts[licence] = counts.get(licence, 0) + 1
        for licence_id, licence in self.tables["UserLicense"].items():
            licence["UsedLicenses"] = counts.get(licence_id, 0)

    # ---- mutation ------------------------------------------------------------------------------

    def new_id(self, object_name: str) -> str:
        while True:
            candidate = self.ids.new(object_name)
            if candidate not in self.tables[object_name] and candidate not in self.deleted[object_name]:
                return candidate

    def insert(self, object_name: str, record: dict) -> tuple:
        self.tables[object_name][record["Id"]] = record
        self._index(object_name, record, add=True)
        self.generation += 1
        return ("insert", object_name, record["Id"], None)

    def update(self, object_name: str, record_id: str, changes: dict) -> tuple:
        record = self.tables[object_name][record_id]
        before = dict(record)
        self._index(object_name, record, add=False)
        record.update(changes)
        self._index(object_name, record, add=True)
        self.generation += 1
        return ("update", object_name, record_id, before)

    def delete(self, object_name: str, record_id: str) -> tuple:
        record = self.tables[object_name].pop(record_id)
        self._index(object_name, record, add=False)
        if schema.OBJECTS[object_name].soft_delete:
            record["IsDeleted"] = True
            self.deleted[object_name][record_id] = record
        self.generation += 1
        return ("delete", object_name, record_id, record)

    def undo(self, entries: list[tuple]) -> None:
        """Revert mutations (newest first) recorded by insert/update/delete."""
        for operation, object_name, record_id, before in reversed(entries):
            if operation == "insert":
                self.delete(object_name, record_id)
                self.deleted[object_name].pop(record_id, None)
            elif operation == "update":
                record = self.tables[object_name][record_id]
                self._index(object_name, record, add=False)
                record.clear()
                record.update(before)
                self._index(object_name, record, add=True)
            else:
                self.deleted[object_name].pop(record_id, None)
                before.pop("IsDeleted", None)
                if schema.OBJECTS[object_name].soft_delete:
                    before["IsDeleted"] = False
                self.insert(object_name, before)
        self.generation += 1

    def _index(self, object_name: str, record: dict, add: bool) -> None:
        def put(index: dict, key: Any, value: str) -> None:
            if add:
                index[key] = value
            elif index.get(key) == value:
                del index[key]

        if object_name == "User" and record.get("Username"):
            put(self.usernames, record["Username"].lower(), record["Id"])
        elif object_name == "PermissionSetAssignment":
            put(self.psa_pairs, (record["AssigneeId"], record["PermissionSetId"]), record["Id"])
            assigned = self.psa_by_assignee.setdefault(record["AssigneeId"], set())
            if add:
                assigned.add(record["Id"])
            else:
                assigned.discard(record["Id"])
        elif object_name == "GroupMember":
            put(self.member_pairs, (record["GroupId"], record["UserOrGroupId"]), record["Id"])
        elif object_name == "UserTerritory2Association":
            put(self.territory_pairs, (record["UserId"], record["Territory2Id"]), record["Id"])


# ---- fixture loading ---------------------------------------------------------------------------


def load_fixture(fixture: Any, source: str = "fixture") -> Store:
    """Build a Store from a fixture dict (FIXTURES.md); FixtureError names the record and the problem."""
    _check_top_level(fixture, source)
    store = Store()
    _load_org(store, fixture.get("org", {}), source)
    records = fixture["records"]
    for object_name, rows in records.items():
        obj = schema.get_object(object_name)
        if obj is None:
            raise FixtureError(f"{source}: records.{object_name}: unknown sObject type '{object_name}'")
        if not isinstance(rows, list):
            raise FixtureError(f"{source}: records.{object_name}: must be a list of records")
        defaults = {field.name: field.default for field in obj.fields.values()}
        for position, row in enumerate(rows):
            record = _load_record(obj, row, f"{source}: records.{object_name}[{position}]", defaults)
            if record["Id"] in store.tables[obj.name]:
                where = f"{source}: records.{object_name}[{position}]"
                raise FixtureError(f"{where}: duplicate Id {record['Id']}")
            store.tables[obj.name][record["Id"]] = record
    _check_references(store, source)
    _fill_derived(store)
    for object_name, table in store.tables.items():
        for record in table.values():
            store._index(object_name, record, add=True)
    _check_uniqueness(store, source)
    _add_implicit_records(store)
    store.refresh_licence_counts()
    logger.info("loaded %s: %s records", source, sum(len(t) for t in store.tables.values()))
    return store


_TOP_LEVEL_KEYS = ("format", "org", "records")


def _check_top_level(fixture: Any, source: str) -> None:
    """`format: 1` and `records` are required and nothing else is allowed at the top, so that a file of
    some other shape fails here instead of serving an empty org. All the problems go in one line."""
    if not isinstance(fixture, dict):
        raise FixtureError(f"{source}: top level must be a JSON object, got {json_type_name(fixture)}")
    problems = []
    unknown = [key for key in fixture if key not in _TOP_LEVEL_KEYS]
    if unknown:
        problems.append(
            f"unknown top-level keys {', '.join(map(repr, unknown))} (allowed: {', '.join(_TOP_LEVEL_KEYS)})"
        )
    if "format" not in fixture:
        problems.append("'format' is missing (it must be 1)")
    elif fixture["format"] != 1 or isinstance(fixture["format"], bool):
        problems.append(f"unsupported format {json.dumps(fixture['format'])} (expected 1)")
    if "records" not in fixture:
        problems.append("'records' is missing (an object keyed by sObject name)")
    elif not isinstance(fixture["records"], dict):
        problems.append(
            f"'records' must be an object keyed by sObject name, got {json_type_name(fixture['records'])}"
        )
    if problems:
        raise FixtureError(f"{source}: {'; '.join(problems)}")


def json_type_name(value: Any) -> str:
    """How JSON calls the type of a parsed value, for error messages."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(type(value), "?")


def check_setting(key: str, value: Any) -> str | None:
    """What is wrong with an org setting (unknown key, wrong JSON type, bad version), or None."""
    if key not in ORG_DEFAULTS:
        return "unknown setting"
    expected = type(ORG_DEFAULTS[key])
    if expected is int and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        return "must be a non-negative integer"
    if expected is float and (not isinstance(value, int | float) or isinstance(value, bool) or value < 0):
        return "must be a non-negative number"
    if expected not in (int, float) and not isinstance(value, expected):
        return f"must be {_JSON_TYPE_NAMES[expected]}"
    if key == "max_api_version" and not re.fullmatch(r"\d{2}\.0", value):
        return 'must look like "66.0"'
    if key == "picklists" and not all(
        isinstance(values, list)
        and all(isinstance(v, dict) and isinstance(v.get("value"), str) for v in values)
        for values in value.values()
    ):
        return 'each entry must be a list of {"value": ..., "active": ...}'
    if key == "validation_rules":
        for position, rule in enumerate(value):
            problem = _rule_problem(rule)
            if problem:
                return f"[{position}]: {problem}"
    if key == "other_org_usernames" and not all(isinstance(name, str) for name in value):
        return "must be a list of usernames (strings)"
    return None


# The keys of a validation rule (FIXTURES.md `org.validation_rules`) and the JSON type of each.
_RULE_KEYS: dict[str, type] = {"object": str, "field": str, "on": str, "message": str, "top_of_page": bool}


def _rule_problem(rule: Any) -> str | None:
    """What is wrong with one validation rule, or None; the DML checks trust what passes here."""
    if not isinstance(rule, dict):
        return 'must be an object like {"object": "User", "field": "...", "message": "..."}'
    unknown = sorted(set(rule) - set(_RULE_KEYS))
    if unknown:
        return f"unknown keys {', '.join(unknown)} (known: {', '.join(_RULE_KEYS)})"
    for name, expected in _RULE_KEYS.items():
        if (name in rule or name in ("object", "field")) and not isinstance(rule.get(name), expected):
            return f"'{name}' must be {_JSON_TYPE_NAMES[expected]}"
    if rule.get("on") not in (None, "create", "update", "both"):
        return "'on' must be create, update or both"
    return None


_JSON_TYPE_NAMES = {bool: "true or false", list: "a list", dict: "an object", str: "a string"}


def _load_org(store: Store, org: Any, source: str) -> None:
    if not isinstance(org, dict):
        raise FixtureError(f"{source}: 'org' must be an object")
    for key, value in org.items():
        problem = check_setting(key, value)
        if problem:
            raise FixtureError(f"{source}: org.{key}: {problem}")
        store.org[key] = copy.deepcopy(value)
    for position, app in enumerate(store.org["oauth_apps"]):
        if not isinstance(app, dict) or not app.get("consumer_key"):
            raise FixtureError(f"{source}: org.oauth_apps[{position}]: needs a consumer_key")
    for position, credential in enumerate(store.org["credentials"]):
        if not isinstance(credential, dict) or not credential.get("username"):
            raise FixtureError(f"{source}: org.credentials[{position}]: needs a username")


def _load_record(obj: schema.SObject, row: Any, where: str, defaults: dict) -> dict:
    if not isinstance(row, dict):
        raise FixtureError(f"{where}: must be an object")
    raw_id = row.get("Id")
    record_id = _widen(raw_id) if isinstance(raw_id, str) else None
    if record_id is None:
        raise FixtureError(f"{where}: Id {raw_id!r} is not a valid 15- or 18-character id")
    if record_id[:3] != obj.key_prefix:
        raise FixtureError(f"{where}: Id {raw_id} does not carry the {obj.name} key prefix {obj.key_prefix}")
    record = dict(defaults)
    exact = obj.fields
    for key, value in row.items():
        field = exact.get(key) or obj.field(key)
        if field is None:
            raise FixtureError(f"{where} (Id {record_id}): no field '{key}' on {obj.name}")
        try:
            record[field.name] = _coerce(field, value)
        except ValueError as problem:
            raise FixtureError(f"{where} (Id {record_id}): field {field.name} {problem}") from None
    record["Id"] = record_id
    return record


# Upper-case letters -> "1", everything else -> "0": the checksum's bit pattern, computed in C.
_UPPER_BITS = str.maketrans({chr(c): "1" if chr(c).isupper() else "0" for c in range(128)})
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")


@functools.lru_cache(maxsize=1 << 20)
def _widen(value: str) -> str | None:
    """`ids.to_18`, done fast: a medium fixture has over a million ids to check, most of them repeats."""
    if not _ID_RE.fullmatch(value):
        return None
    body = value[:15]
    bits = body.translate(_UPPER_BITS)
    alphabet = _SUFFIX_ALPHABET
    suffix = alphabet[int(bits[4::-1], 2)] + alphabet[int(bits[9:4:-1], 2)] + alphabet[int(bits[14:9:-1], 2)]
    if len(value) == 18 and value[15:].upper() != suffix:
        return None
    return body + suffix


def _coerce(field: schema.Field, value: Any) -> Any:
    """The stored form of a fixture value; ValueError says what is wrong with it."""
    if value is None:
        return None
    kind = field.type
    if kind in schema.TEXT_TYPES:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    if kind in schema.ID_TYPES:
        widened = _widen(value) if isinstance(value, str) else None
        if widened is None:
            raise ValueError("is not a valid id")
        return widened
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("must be an integer")
        return value
    if kind == "double":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError("must be a number")
        return value
    if kind == "datetime":
        stored = normalize_datetime(value) if isinstance(value, str) else None
        if not stored:
            raise ValueError("must be a datetime like 2024-01-02T03:04:05.000+0000")
        return stored
    if kind == "date":
        stored = normalize_date(value) if isinstance(value, str) else None
        if not stored:
            raise ValueError("must be a date like 2024-01-02")
        return stored
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _check_references(store: Store, source: str) -> None:
    for object_name, table in store.tables.items():
        obj = schema.OBJECTS[object_name]
        references = [
            f for f in obj.fields.values() if f.type == "reference" and f.name not in _AUDIT_REFERENCES
        ]
        for record in table.values():
            for field in references:
                target_id = record.get(field.name)
                if target_id is None:
                    continue
                target_object = OBJECT_BY_PREFIX.get(target_id[:3])
                known_targets = [t for t in field.reference_to if t in schema.OBJECTS]
                if target_object not in field.reference_to and known_targets:
                    raise FixtureError(
                        f"{source}: records.{object_name} (Id {record['Id']}): {field.name} {target_id} "
                        f"is not a {' or '.join(field.reference_to)} id"
                    )
                if target_object in schema.OBJECTS and target_id not in store.tables[target_object]:
                    raise FixtureError(
                        f"{source}: records.{object_name} (Id {record['Id']}): {field.name} {target_id} "
                        f"points at no {target_object} record"
                    )


_AUDIT_REFERENCES = frozenset({"CreatedById", "LastModifiedById"})


def _check_uniqueness(store: Store, source: str) -> None:
    seen: dict[str, str] = {}
    for user in store.tables["User"].values():
        username = (user.get("Username") or "").lower()
        if not username:
            raise FixtureError(f"{source}: records.User (Id {user['Id']}): Username is required")
        if username in seen:
            raise FixtureError(
                f"{source}: records.User (Id {user['Id']}): duplicate Username {user['Username']}"
            )
        seen[username] = user["Id"]


def _fill_derived(store: Store) -> None:
    """Fill the fields Salesforce computes, so fixtures may leave them out."""
    first_user = min(store.tables["User"], default=None)
    for table in store.tables.values():
        for record in table.values():
            for audit in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                if record.get(audit) is None:
                    record[audit] = record.get("CreatedDate") or DEFAULT_AUDIT_DATE
            for audit in _AUDIT_REFERENCES:
                if record.get(audit) is None:
                    record[audit] = first_user
    for profile in store.tables["Profile"].values():
        if profile.get("UserType") is None:
            licence = store.tables["UserLicense"].get(profile.get("UserLicenseId") or "")
            profile["UserType"] = user_type_for_licence(
                licence.get("LicenseDefinitionKey") if licence else None
            )
    for user in store.tables["User"].values():
        user["Name"] = user_display_name(user)
        if user.get("UserType") is None:
            profile = store.tables["Profile"].get(user.get("ProfileId") or "")
            user["UserType"] = profile.get("UserType") if profile else "Standard"
        if user.get("CommunityNickname") is None:
            user["CommunityNickname"] = (user.get("Username") or "").split("@")[0][:40]
    for assignment in store.tables["PermissionSetAssignment"].values():
        if assignment.get("PermissionSetId") is None and assignment.get("PermissionSetGroupId"):
            aggregate = store.group_permission_set(assignment["PermissionSetGroupId"])
            assignment["PermissionSetId"] = aggregate["Id"] if aggregate else None


def _add_implicit_records(store: Store) -> None:
    """Every user holds its profile's own permission set and has a UserLogin row, as in Salesforce."""
    owned = {
        ps["ProfileId"]: ps["Id"]
        for ps in store.tables["PermissionSet"].values()
        if ps.get("IsOwnedByProfile") and ps.get("ProfileId")
    }
    logins = {login["UserId"] for login in store.tables["UserLogin"].values()}
    for user in list(store.tables["User"].values()):
        permission_set_id = owned.get(user.get("ProfileId"))
        if permission_set_id and (user["Id"], permission_set_id) not in store.psa_pairs:
            store.insert(
                "PermissionSetAssignment",
                new_record(
                    store,
                    "PermissionSetAssignment",
                    {
                        "AssigneeId": user["Id"],
                        "PermissionSetId": permission_set_id,
                    },
                    created_by=user.get("CreatedById"),
                    when=user.get("CreatedDate"),
                ),
            )
        if user["Id"] not in logins:
            store.insert(
                "UserLogin",
                new_record(
                    store,
                    "UserLogin",
                    {"UserId": user["Id"]},
                    created_by=user.get("CreatedById"),
                    when=user.get("CreatedDate"),
                ),
            )
    store.generation = 0


def new_record(
    store: Store, object_name: str, values: dict, created_by: str | None, when: str | None
) -> dict:
    """A complete record with defaults, a fresh id and audit fields."""
    obj = schema.OBJECTS[object_name]
    record = {field.name: field.default for field in obj.fields.values()}
    record.update(values)
    record["Id"] = store.new_id(object_name)
    for audit in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        record[audit] = when or DEFAULT_AUDIT_DATE
    record["CreatedById"] = record["LastModifiedById"] = created_by
    return record


def user_display_name(user: dict) -> str:
    return " ".join(part for part in (user.get("FirstName"), user.get("LastName")) if part)
