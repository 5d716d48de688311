"""DML with Salesforce's validation and provisioning rules (field guide §4.1, §7.2, §7.3).

`create`, `update` and `delete` validate in the order the field guide lists (field names, read-only
fields, required fields, lengths, formats, restricted picklists, references, uniqueness, licence
seats, validation rules), raise the first problem as an ApiError, and otherwise apply the change
through the store, returning undo entries so a collection call can roll back.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from local_salesforce import access, schema
from local_salesforce.errors import ApiError, not_found
from local_salesforce.ids import OBJECT_BY_PREFIX, to_18
from local_salesforce.store import Store, new_record, user_display_name, user_type_for_licence
from local_salesforce.values import normalize_date, normalize_datetime, now_string

logger = logging.getLogger(__name__)

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
DUPLICATE_USERNAME = (
    "Duplicate Username.<br>The username already exists in this or another Salesforce organization. "
    "Usernames must be unique across all Salesforce organizations. To resolve, use a different username "
    "(it doesn't need to match the user's email address)."
)
DUPLICATE_NICKNAME = (
    "Duplicate Nickname.<br>Another user has already selected this nickname.<br>Please select another."
)
PROFILE_OWNED = "You can't assign or unassign this permission set because it's associated with a profile."
EDITABLE_GROUP_TYPES = ("Regular", "Queue")
_USER_REQUIRED_ORDER = (
    "LastName",
    "Username",
    "Email",
    "Alias",
    "TimeZoneSidKey",
    "LocaleSidKey",
    "EmailEncodingKey",
    "ProfileId",
    "LanguageLocaleKey",
)


@dataclass
class Caller:
    user_id: str
    permissions: frozenset[str]
    version: float = 99.0  # API version of the request: newer fields don't exist for older versions


def _error(code: str, message: str, fields: list[str] | None = None) -> ApiError:
    return ApiError(400, code, message, fields if fields is not None else [])


def method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")


def record_methods(obj: schema.SObject) -> str:
    """What Salesforce lists in a 405 for a record URL of this object."""
    allowed = ["HEAD", "GET"] + (["PATCH"] if obj.updateable else []) + (["DELETE"] if obj.deletable else [])
    return ",".join(allowed)


# ---- body parsing --------------------------------------------------------------------------------


def parse_body(obj: schema.SObject, body: Any, creating: bool, version: float = 99.0) -> dict:
    """Canonical field names and stored-form values; INVALID_FIELD / INVALID_FIELD_FOR_INSERT_UPDATE first."""
    if not isinstance(body, dict):
        raise _error("JSON_PARSER_ERROR", "The request body must be a JSON object", None)
    values: dict = {}
    read_only: list[str] = []
    for key, value in body.items():
        if key == "attributes":
            continue
        field = obj.field(key, version)
        if field is None:
            raise ApiError(
                400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", None
            )
        if field.name == "Id" and creating:
            raise _error("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
        if not (field.createable if creating else field.updateable):
            read_only.append(field.name)
            continue
        values[field.name] = _coerce(obj, field, value)
    if read_only:
        raise _error(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(read_only)}. "
            "Please check the security settings of this field and verify that it is read/write for your "
            "profile or permission set.",
            read_only,
        )
    return values


def _coerce(obj: schema.SObject, field: schema.Field, value: Any) -> Any:
    if value is None or (value == "" and field.type not in ("boolean",)):
        return None
    kind = field.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise _error(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of boolean from VALUE_STRING value {value} "
            f"or request may be missing a required field",
            None,
        )
    if kind in ("int", "double"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value) if kind == "int" else float(value)
        raise _error(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {kind} from VALUE_STRING value {value}",
            None,
        )
    if not isinstance(value, str):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "datetime":
        stored = normalize_datetime(value) or (normalize_date(value) and f"{value}T00:00:00.000+0000")
        if not stored:
            raise _error(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{field.label}: value not of required type: {value}",
                [field.name],
            )
        return stored
    if kind == "date":
        if not normalize_date(value):
            raise _error(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{field.label}: value not of required type: {value}",
                [field.name],
            )
        return value
    if kind == "reference":
        widened = to_18(value)
        if widened is None:
            raise _error("MALFORMED_ID", f"{field.label}: id value of incorrect type: {value}", [field.name])
        return widened
    return value


# ---- checks shared by create and update --------------------------------------------------------


def _check_formats(obj: schema.SObject, values: dict, store: Store) -> None:
    for name, value in values.items():
        field = obj.fields[name]
        if (
            isinstance(value, str)
            and field.length
            and field.type in schema.TEXT_TYPES
            and len(value) > field.length
        ):
            raise _error(
                "STRING_TOO_LONG",
                f"{field.label}: data value too large: {value} (max length={field.length})",
                [name],
            )
    for name, value in values.items():
        if obj.fields[name].type == "email" and value is not None and not _EMAIL_RE.match(value):
            raise _error(
                "INVALID_EMAIL_ADDRESS", f"{obj.fields[name].label}: invalid email address: {value}", [name]
            )
    if obj.name == "User" and values.get("Username") is not None and not _EMAIL_RE.match(values["Username"]):
        raise _error(
            "FIELD_INTEGRITY_EXCEPTION",
            "Username must be in the form of an email address (for example, john@acme.com): Username",
            ["Username"],
        )
    for name, value in values.items():
        field = obj.fields[name]
        allowed = _picklist_values(store, obj, field)
        if value is not None and field.type == "picklist" and allowed is not None and value not in allowed:
            raise _error(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{field.label}: bad value for restricted picklist field: {value}",
                [name],
            )


def _picklist_values(store: Store, obj: schema.SObject, field: schema.Field) -> tuple[str, ...] | None:
    """Allowed values: the org's own list when it defines one, the schema's when restricted, else None."""
    configured = store.org.get("picklists", {}).get(f"{obj.name}.{field.name}")
    if configured is not None:
        return tuple(v["value"] for v in configured if v.get("active", True))
    return field.values if field.restricted else None


def _check_references(store: Store, obj: schema.SObject, values: dict) -> None:
    for name, value in values.items():
        field = obj.fields[name]
        if field.type != "reference" or value is None or name in ("CreatedById", "LastModifiedById"):
            continue
        target = OBJECT_BY_PREFIX.get(value[:3])
        known = [t for t in field.reference_to if t in schema.OBJECTS]
        if target not in field.reference_to and known:
            raise _error(
                "FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of incorrect type: {value}", [name]
            )
        if target in schema.OBJECTS and value not in store.tables[target]:
            raise _error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])


def _check_validation_rules(store: Store, obj: schema.SObject, merged: dict, creating: bool) -> None:
    for rule in store.org.get("validation_rules") or []:
        if str(rule.get("object", "")).lower() != obj.name.lower():
            continue
        when = rule.get("on", "both")
        if when not in ("both", "create" if creating else "update"):
            continue
        field = obj.field(str(rule.get("field", "")))
        if field is not None and merged.get(field.name) in (None, ""):
            location = [] if rule.get("top_of_page") else [field.name]
            raise _error(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION", str(rule.get("message") or "Validation failed"), location
            )


def _check_seats(store: Store, profile_id: str | None, user_id: str | None) -> None:
    licence = store.licence_of_profile(profile_id)
    if licence is None or licence.get("TotalLicenses") is None:
        return
    if store.used_licences(licence["Id"], excluding_user=user_id) >= int(licence["TotalLicenses"]):
        raise _error("LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded", [])


# ---- create --------------------------------------------------------------------------------------


def create(store: Store, obj: schema.SObject, body: Any, caller: Caller) -> tuple[str, list[tuple]]:
    """Insert one record; returns (id, undo entries). For a duplicate GroupMember the existing id."""
    if not obj.createable:
        raise method_not_allowed("POST", "GET,HEAD")
    values = parse_body(obj, body, creating=True, version=caller.version)
    access.check_write(caller.permissions, obj.name, values)
    required = [
        f.name for f in obj.fields.values() if f.required and f.createable and values.get(f.name) is None
    ]
    if obj.name == "User":  # the order Salesforce lists them in
        required.sort(
            key=lambda name: _USER_REQUIRED_ORDER.index(name) if name in _USER_REQUIRED_ORDER else 99
        )
    if (
        obj.name == "PermissionSetAssignment"
        and not values.get("PermissionSetId")
        and not values.get("PermissionSetGroupId")
    ):
        required.append("PermissionSetId")
    if obj.name == "PermissionSetAssignment" and not values.get("AssigneeId"):
        required.insert(0, "AssigneeId")
    if required:
        raise _error(
            "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(required)}]", required
        )
    _check_formats(obj, values, store)
    _check_references(store, obj, values)
    special = _CREATE_RULES.get(obj.name)
    if special is not None:
        existing = special(store, values, caller)
        if existing:
            return existing, []
    merged = {f.name: f.default for f in obj.fields.values()} | values
    _check_validation_rules(store, obj, merged, creating=True)
    record = new_record(store, obj.name, values, caller.user_id, now_string())
    undo = [store.insert(obj.name, record)]
    undo += _after_create(store, obj.name, record, caller)
    logger.info("created %s %s", obj.name, record["Id"])
    return record["Id"], undo


def _create_user(store: Store, values: dict, caller: Caller) -> None:
    values["Username"] = values["Username"].lower()
    taken = {u.lower() for u in store.org.get("other_org_usernames") or []}
    if values["Username"] in store.usernames or values["Username"] in taken:
        raise _error("DUPLICATE_USERNAME", DUPLICATE_USERNAME, ["Username"])
    nickname = values.get("CommunityNickname")
    if nickname is None:
        values["CommunityNickname"] = f"User{int(time.time() * 1000)}{store.generation % 10_000_000:07d}"
    elif any(
        (u.get("CommunityNickname") or "").lower() == nickname.lower() for u in store.tables["User"].values()
    ):
        raise _error("DUPLICATE_COMM_NICKNAME", DUPLICATE_NICKNAME, ["CommunityNickname"])
    values.setdefault("IsActive", True)
    if values["IsActive"]:
        _check_seats(store, values["ProfileId"], None)
    licence = store.licence_of_profile(values["ProfileId"])
    values["UserType"] = user_type_for_licence(licence.get("LicenseDefinitionKey") if licence else None)
    values["Name"] = user_display_name(values)


def _create_assignment(store: Store, values: dict, caller: Caller) -> None:
    group_id = values.get("PermissionSetGroupId")
    if group_id:
        aggregate = store.group_permission_set(group_id)
        if aggregate is None:
            raise _error(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["PermissionSetGroupId"]
            )
        values["PermissionSetId"] = aggregate["Id"]
    permission_set = store.tables["PermissionSet"][values["PermissionSetId"]]
    if permission_set.get("IsOwnedByProfile"):
        raise _error(
            store.org.get("profile_owned_psa_error") or "FIELD_INTEGRITY_EXCEPTION", PROFILE_OWNED, []
        )
    if permission_set.get("Type") == "Group" and not group_id:
        values["PermissionSetGroupId"] = permission_set.get("PermissionSetGroupId")
    user = store.tables["User"][values["AssigneeId"]]
    licence_id = permission_set.get("LicenseId")
    user_licence = store.licence_of_profile(user.get("ProfileId"))
    if licence_id and licence_id.startswith("100") and user_licence and licence_id != user_licence["Id"]:
        raise _error(
            "FIELD_INTEGRITY_EXCEPTION",
            f"Can't assign permission set {permission_set['Name']} to user "
            f"{user.get('Name')}. The user license doesn't allow the permission: {permission_set['Label']}",
            [],
        )
    existing = store.psa_pairs.get((values["AssigneeId"], values["PermissionSetId"]))
    if existing:
        raise _error(
            "DUPLICATE_VALUE",
            f"Duplicate PermissionSetAssignment. Assignee: {values['AssigneeId']}; "
            f"Permission Set: {values['PermissionSetId']}",
            [],
        )


def _create_member(store: Store, values: dict, caller: Caller) -> str | None:
    group = store.tables["Group"][values["GroupId"]]
    if group.get("Type") not in EDITABLE_GROUP_TYPES:
        raise _error(
            "FIELD_INTEGRITY_EXCEPTION",
            f"You can't add members to a group of type {group.get('Type')}.",
            ["GroupId"],
        )
    return store.member_pairs.get((values["GroupId"], values["UserOrGroupId"]))


def _create_territory_association(store: Store, values: dict, caller: Caller) -> None:
    existing = store.territory_pairs.get((values["UserId"], values["Territory2Id"]))
    if existing:
        raise _error(
            "DUPLICATE_VALUE",
            f"duplicate value found: <unknown> duplicates value on record with id: {existing}",
            [],
        )


def _create_group(store: Store, values: dict, caller: Caller) -> None:
    values.setdefault("Type", "Regular")
    if values["Type"] not in EDITABLE_GROUP_TYPES + ("Personal",):
        raise _error(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"Type: bad value for restricted picklist field: {values['Type']}",
            ["Type"],
        )
    if not values.get("DeveloperName"):
        values["DeveloperName"] = re.sub(r"_+", "_", re.sub(r"\W", "_", values["Name"])).strip("_") or "Group"


def _create_login(store: Store, values: dict, caller: Caller) -> None:
    return None


_CREATE_RULES = {
    "User": _create_user,
    "PermissionSetAssignment": _create_assignment,
    "GroupMember": _create_member,
    "UserTerritory2Association": _create_territory_association,
    "Group": _create_group,
}


def _after_create(store: Store, object_name: str, record: dict, caller: Caller) -> list[tuple]:
    """Records Salesforce creates alongside: the profile PSA and UserLogin of a user, a role's groups."""
    undo: list[tuple] = []
    now = record["CreatedDate"]
    if object_name == "User":
        owned = store.profile_permission_set(record["ProfileId"])
        if owned:
            undo.append(
                store.insert(
                    "PermissionSetAssignment",
                    new_record(
                        store,
                        "PermissionSetAssignment",
                        {"AssigneeId": record["Id"], "PermissionSetId": owned["Id"]},
                        caller.user_id,
                        now,
                    ),
                )
            )
        undo.append(
            store.insert(
                "UserLogin", new_record(store, "UserLogin", {"UserId": record["Id"]}, caller.user_id, now)
            )
        )
        store.refresh_licence_counts()
    elif object_name == "UserRole":
        for group_type in ("Role", "RoleAndSubordinates", "RoleAndSubordinatesInternal"):
            group = new_record(
                store,
                "Group",
                {"Type": group_type, "RelatedId": record["Id"], "DeveloperName": record.get("DeveloperName")},
                caller.user_id,
                now,
            )
            undo.append(store.insert("Group", group))
    elif object_name == "PermissionSetGroup":
        aggregate = new_record(
            store,
            "PermissionSet",
            {
                "Name": record["DeveloperName"],
                "Label": record["MasterLabel"],
                "Type": "Group",
                "PermissionSetGroupId": record["Id"],
            },
            caller.user_id,
            now,
        )
        undo.append(store.insert("PermissionSet", aggregate))
    elif object_name == "PermissionSetGroupComponent":
        undo += _start_recalculation(store, record["PermissionSetGroupId"])
    return undo


def _start_recalculation(store: Store, group_id: str) -> list[tuple]:
    """A component change makes Salesforce recalculate the group: Updating now, Updated a little later."""
    seconds = float(store.org.get("psg_recalc_seconds") or 0)
    if seconds <= 0 or group_id not in store.tables["PermissionSetGroup"]:
        return []
    store.recalculations[group_id] = time.time() + seconds
    return [store.update("PermissionSetGroup", group_id, {"Status": "Updating"})]


def settle_recalculations(store: Store) -> None:
    """Finish the permission set group recalculations whose time has come (called before reads)."""
    now = time.time()
    for group_id, due in list(store.recalculations.items()):
        if due <= now:
            del store.recalculations[group_id]
            if group_id in store.tables["PermissionSetGroup"]:
                store.update("PermissionSetGroup", group_id, {"Status": "Updated"})


# ---- update --------------------------------------------------------------------------------------


def update(store: Store, obj: schema.SObject, record_id: str, body: Any, caller: Caller) -> list[tuple]:
    if not obj.updateable:
        raise method_not_allowed("PATCH", record_methods(obj))
    current = _existing(store, obj, record_id)
    values = parse_body(obj, body, creating=False, version=caller.version)
    access.check_write(caller.permissions, obj.name, current)
    missing = [name for name, value in values.items() if value is None and obj.fields[name].required]
    if missing:
        raise _error(
            "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
        )
    _check_formats(obj, values, store)
    _check_references(store, obj, values)
    old_profile = current.get("ProfileId")
    if obj.name == "User":
        _check_user_update(store, current, values)
    elif obj.name == "UserLogin" and values.get("IsPasswordLocked"):
        raise _error(
            "FIELD_INTEGRITY_EXCEPTION", "IsPasswordLocked can only be set to false", ["IsPasswordLocked"]
        )
    _check_validation_rules(store, obj, current | values, creating=False)
    values.update(LastModifiedDate=now_string(), LastModifiedById=caller.user_id)
    values["SystemModstamp"] = values["LastModifiedDate"]
    undo = [store.update(obj.name, record_id, values)]
    if obj.name == "User":
        if current.get("ProfileId") != old_profile:  # `current` is the stored record, now updated
            undo += _swap_profile_assignment(store, record_id, old_profile, current["ProfileId"], caller)
        store.refresh_licence_counts()
    return undo


def _check_user_update(store: Store, current: dict, values: dict) -> None:
    """Uniqueness and seat checks of a user update; fills the fields Salesforce derives (Name, UserType)."""
    if values.get("Username"):
        values["Username"] = values["Username"].lower()
        owner = store.usernames.get(values["Username"])
        taken = {u.lower() for u in store.org.get("other_org_usernames") or []}
        if (owner and owner != current["Id"]) or values["Username"] in taken:
            raise _error("DUPLICATE_USERNAME", DUPLICATE_USERNAME, ["Username"])
    nickname = values.get("CommunityNickname")
    if nickname and any(
        (u.get("CommunityNickname") or "").lower() == nickname.lower() and uid != current["Id"]
        for uid, u in store.tables["User"].items()
    ):
        raise _error("DUPLICATE_COMM_NICKNAME", DUPLICATE_NICKNAME, ["CommunityNickname"])
    will_be_active = values.get("IsActive", current.get("IsActive"))
    new_profile = values.get("ProfileId", current.get("ProfileId"))
    reactivating = will_be_active and not current.get("IsActive")
    old_licence = store.licence_of_profile(current.get("ProfileId"))
    new_licence = store.licence_of_profile(new_profile)
    licence_changes = (old_licence or {}).get("Id") != (new_licence or {}).get("Id")
    if will_be_active and (reactivating or licence_changes):
        _check_seats(store, new_profile, current["Id"])
    if "FirstName" in values or "LastName" in values:
        values["Name"] = user_display_name(current | values)
    if new_profile != current.get("ProfileId"):
        values["UserType"] = user_type_for_licence(
            new_licence.get("LicenseDefinitionKey") if new_licence else None
        )


def _swap_profile_assignment(
    store: Store, user_id: str, old_profile: str | None, new_profile: str, caller: Caller
) -> list[tuple]:
    """A profile change moves the user's profile-owned permission set assignment to the new profile's set."""
    undo: list[tuple] = []
    old_set = store.profile_permission_set(old_profile or "")
    if old_set:
        old_psa = store.psa_pairs.get((user_id, old_set["Id"]))
        if old_psa:
            undo.append(store.delete("PermissionSetAssignment", old_psa))
    new_set = store.profile_permission_set(new_profile)
    if new_set:
        undo.append(
            store.insert(
                "PermissionSetAssignment",
                new_record(
                    store,
                    "PermissionSetAssignment",
                    {"AssigneeId": user_id, "PermissionSetId": new_set["Id"]},
                    caller.user_id,
                    now_string(),
                ),
            )
        )
    return undo


# ---- delete --------------------------------------------------------------------------------------


def delete(store: Store, obj: schema.SObject, record_id: str, caller: Caller) -> list[tuple]:
    if not obj.deletable:
        raise method_not_allowed("DELETE", record_methods(obj))
    current = _existing(store, obj, record_id)
    access.check_write(caller.permissions, obj.name, current)
    undo: list[tuple] = []
    if obj.name == "PermissionSetAssignment":
        permission_set = store.tables["PermissionSet"].get(current["PermissionSetId"] or "")
        if permission_set and permission_set.get("IsOwnedByProfile"):
            raise _error(
                store.org.get("profile_owned_psa_error") or "FIELD_INTEGRITY_EXCEPTION", PROFILE_OWNED, []
            )
    if obj.name == "PermissionSet" and (current.get("IsOwnedByProfile") or current.get("Type") == "Group"):
        owner = "a profile" if current.get("IsOwnedByProfile") else "a permission set group"
        raise _error(
            "FIELD_INTEGRITY_EXCEPTION",
            f"You can't delete this permission set because it's owned by {owner}.",
        )
    undo.append(store.delete(obj.name, record_id))
    undo += _cascade(store, obj.name, record_id)
    if obj.name == "PermissionSetGroupComponent":
        undo += _start_recalculation(store, current["PermissionSetGroupId"])
    store.tombstones.add(record_id)
    return undo


# What goes with a deleted record, as in Salesforce: (child object, field pointing at the parent).
CASCADES: dict[str, list[tuple[str, str]]] = {
    "PermissionSet": [
        ("PermissionSetAssignment", "PermissionSetId"),
        ("PermissionSetGroupComponent", "PermissionSetId"),
        ("SetupEntityAccess", "ParentId"),
    ],
    "PermissionSetGroup": [
        ("PermissionSet", "PermissionSetGroupId"),
        ("PermissionSetGroupComponent", "PermissionSetGroupId"),
    ],
    "Group": [("GroupMember", "GroupId"), ("GroupMember", "UserOrGroupId")],
    "UserRole": [("Group", "RelatedId")],
    "Territory2": [("UserTerritory2Association", "Territory2Id"), ("Group", "RelatedId")],
}


def _cascade(store: Store, object_name: str, record_id: str) -> list[tuple]:
    undo: list[tuple] = []
    for child, field_name in CASCADES.get(object_name, ()):
        for child_id in [r["Id"] for r in store.tables[child].values() if r.get(field_name) == record_id]:
            if child_id in store.tables[child]:
                undo.append(store.delete(child, child_id))
                undo += _cascade(store, child, child_id)
    return undo


def _existing(store: Store, obj: schema.SObject, record_id: str) -> dict:
    record = store.tables[obj.name].get(record_id)
    if record is None:
        if record_id in store.tombstones:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        raise not_found()
    return record


def lookup_id(obj: schema.SObject, raw: str) -> str:
    """The 18-char id in a record URL, or Salesforce's answer for something that is not one of its ids."""
    record_id = to_18(raw)
    if record_id is None or record_id[:3] != obj.key_prefix:
        raise ApiError(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {raw}"
        )
    return record_id
