"""sObject REST: records, describe, global describe and sObject Collections (field guide §4).

HTTP shapes live here; the rules about what may change live in `dml`. Paths are accepted with and
without a trailing slash, as Salesforce does (simple-salesforce adds one on create).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from local_salesforce import access, dml, schema
from local_salesforce.errors import ApiError, not_found
from local_salesforce.ids import OBJECT_BY_PREFIX, to_18
from local_salesforce.messages import Request, Response

if TYPE_CHECKING:
    from local_salesforce.app import OrgApp

logger = logging.getLogger(__name__)

MAX_COLLECTION = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
    "fields": [],
}


def resource_map(version: str) -> dict:
    base = f"/services/data/v{version}"
    names = ("sobjects", "query", "queryAll", "limits", "composite", "search", "tooling", "analytics")
    return {name: f"{base}/{name}" for name in names}


def _respond(status: int, payload: Any = None) -> Response:
    return Response(204) if status == 204 else Response.json(status, payload)


def _visible_object(org: OrgApp, name: str) -> schema.SObject:
    obj = schema.get_object(name)
    if obj is None or (obj.feature and not org.store.org.get(obj.feature)):
        raise not_found()
    return obj


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError as exc:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {exc}") from exc
    except RecursionError as exc:  # thousands of nested brackets: still a parser error, not a crash
        raise ApiError(400, "JSON_PARSER_ERROR", "Request body nested too deeply") from exc


def handle(org: OrgApp, request: Request, head: str, tail: str) -> Response:
    parts = [p for p in tail.split("/") if p]
    if head == "sobjects":
        if not parts:
            if request.method != "GET":
                raise dml.method_not_allowed(request.method, "GET,HEAD")
            return _respond(200, global_describe(org, request.version))
        return _sobjects(org, request, parts)
    if head == "composite" and parts[:1] == ["sobjects"]:
        return _collections(org, request, parts[1:])
    raise not_found()


def _caller(request: Request) -> dml.Caller:
    assert request.user is not None
    return dml.Caller(request.user["Id"], request.permissions, float(request.version))


def _sobjects(org: OrgApp, request: Request, parts: list[str]) -> Response:
    obj = _visible_object(org, parts[0])
    method = request.method
    store = org.store
    if len(parts) == 1:
        if method == "GET":
            return _respond(200, {"objectDescribe": _object_summary(obj, request.version), "recentItems": []})
        if method != "POST":
            raise dml.method_not_allowed(method, "GET,HEAD,POST" if obj.createable else "GET,HEAD")
        body = _json_body(request)
        with store.lock:
            record_id, _ = dml.create(store, obj, body, _caller(request))
        return _respond(201, {"id": record_id, "success": True, "errors": []})
    if len(parts) == 2 and parts[1] == "describe":
        if method != "GET":
            raise dml.method_not_allowed(method, "GET,HEAD")
        return _respond(200, describe(org, obj, request.version))
    if len(parts) == 3 and parts[1].lower() == "id":
        parts = [parts[0], parts[2]]  # /sobjects/User/Id/005... addresses the record by Id
    elif len(parts) == 3:
        # Upsert/read by external id: none of these objects has an external-id field.
        raise ApiError(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {parts[1]}"
        )
    if len(parts) != 2:
        raise not_found()
    record_id = dml.lookup_id(obj, parts[1])
    if method == "GET":
        access.check_read(request.permissions, obj.name)
        with store.lock:
            dml.settle_recalculations(store)
            record = store.tables[obj.name].get(record_id)
            if record is None:
                raise not_found()
            return _respond(200, _record_out(obj, record, request.version, request.query.get("fields")))
    if method == "PATCH":
        body = _json_body(request)
        with store.lock:
            dml.update(store, obj, record_id, body, _caller(request))
        return _respond(204)
    if method == "DELETE":
        with store.lock:
            dml.delete(store, obj, record_id, _caller(request))
        return _respond(204)
    raise dml.method_not_allowed(method, dml.record_methods(obj))


def _record_out(obj: schema.SObject, record: dict, version: str, fields: str | None) -> dict:
    out: dict = {
        "attributes": {
            "type": obj.name,
            "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}",
        }
    }
    names = [f.name for f in obj.fields_at(float(version))]
    if fields:
        names = []
        for name in fields.split(","):
            field = obj.field(name.strip(), float(version))
            if field is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name.strip()}' on entity '{obj.name}'. If you "
                    "are attempting to use a custom field, be sure to append the '__c' after the custom "
                    "field name. Please reference your WSDL or the describe call for the appropriate names.",
                )
            names.append(field.name)
    for name in names:
        out[name] = record.get(name)
    return out


# ---- sObject Collections -------------------------------------------------------------------------


def _collections(org: OrgApp, request: Request, parts: list[str]) -> Response:
    method = request.method
    store = org.store
    caller = _caller(request)
    if method == "GET" and len(parts) == 1:
        obj = _visible_object(org, parts[0])
        access.check_read(request.permissions, obj.name)
        ids = [i for i in (request.query.get("ids") or "").split(",") if i]
        fields = request.query.get("fields")
        with store.lock:
            out = []
            for raw in ids:
                record_id = to_18(raw)
                record = store.tables[obj.name].get(record_id) if record_id else None
                out.append(_record_out(obj, record, request.version, fields) if record else None)
        return _respond(200, out)
    if parts:
        raise not_found()
    if method == "DELETE":
        ids = [i for i in (request.query.get("ids") or "").split(",") if i]
        all_or_none = (request.query.get("allOrNone") or "false").lower() == "true"
        _check_size(len(ids))
        with store.lock:
            return _respond(
                200, _run_batch(store, [(raw, None) for raw in ids], all_or_none, "delete", caller)
            )
    if method not in ("POST", "PATCH"):
        raise dml.method_not_allowed(method, "DELETE,GET,PATCH,POST")
    body = _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object with a records array")
    records = body["records"]
    _check_size(len(records))
    types = []
    for record in records:
        type_name = (record.get("attributes") or {}).get("type") if isinstance(record, dict) else None
        if not type_name:
            raise ApiError(400, "INVALID_TYPE", "Must specify a type in attributes for each record")
        types.append(type_name)
    if len({t.lower() for t in types}) > 1:
        raise ApiError(
            400,
            "INVALID_BATCH_REQUEST",
            "A single request can't contain more than one type of setup "
            "object, or both setup and non-setup objects.",
        )
    operation = "create" if method == "POST" else "update"
    with store.lock:
        return _respond(
            200,
            _run_batch(
                store, list(zip(types, records, strict=True)), bool(body.get("allOrNone")), operation, caller
            ),
        )


def _check_size(count: int) -> None:
    if count > MAX_COLLECTION:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call",
        )


def _run_batch(
    store, items: list[tuple], all_or_none: bool, operation: str, caller: dml.Caller
) -> list[dict]:
    """Apply each item; report per item (HTTP 200 regardless); roll everything back on allOrNone failure."""
    results: list[dict] = []
    undo: list[tuple] = []
    for first, second in items:
        try:
            if operation == "delete":
                record_id = to_18(first)
                obj = schema.OBJECTS.get(_object_of(record_id) or "")
                if record_id is None or obj is None:
                    raise ApiError(400, "MALFORMED_ID", f"malformed id {first}", [])
                undo += dml.delete(store, obj, record_id, caller)
            else:
                obj = schema.get_object(first)
                if obj is None or (obj.feature and not store.org.get(obj.feature)):
                    raise ApiError(400, "INVALID_TYPE", f"sObject type '{first}' is not supported.", [])
                body = {k: v for k, v in second.items() if k != "attributes"}
                if operation == "create":
                    record_id, entries = dml.create(store, obj, body, caller)
                    undo += entries
                else:
                    raw = body.pop("id", None) or body.pop("Id", None)
                    record_id = to_18(raw) if isinstance(raw, str) else None
                    if record_id is None or record_id[:3] != obj.key_prefix:
                        raise ApiError(400, "MALFORMED_ID", f"malformed id {raw}", [])
                    undo += dml.update(store, obj, record_id, body, caller)
            results.append({"id": record_id, "success": True, "errors": []})
        except ApiError as exc:
            results.append({"success": False, "errors": [exc.collection_item()]})
    if all_or_none and any(not r["success"] for r in results):
        store.undo(undo)
        store.refresh_licence_counts()
        results = [
            r if not r["success"] else {"success": False, "errors": [dict(ROLLED_BACK)]} for r in results
        ]
    return results


def _object_of(record_id: str | None) -> str | None:
    return OBJECT_BY_PREFIX.get(record_id[:3]) if record_id else None


# ---- describe ------------------------------------------------------------------------------------


def _object_summary(obj: schema.SObject, version: str) -> dict:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.label + "s",
        "keyPrefix": obj.key_prefix,
        "queryable": True,
        "createable": obj.createable,
        "updateable": obj.updateable,
        "deletable": obj.deletable,
        "retrieveable": True,
        "searchable": False,
        "custom": False,
        "customSetting": False,
        "layoutable": False,
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }


def global_describe(org: OrgApp, version: str) -> dict:
    visible = [o for o in schema.OBJECTS.values() if not o.feature or org.store.org.get(o.feature)]
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [_object_summary(o, version) for o in visible],
    }


def describe(org: OrgApp, obj: schema.SObject, version: str) -> dict:
    out = _object_summary(obj, version)
    out["fields"] = [_field_describe(org, obj, f) for f in obj.fields_at(float(version))]
    out["childRelationships"] = [
        {
            "childSObject": child,
            "field": field,
            "relationshipName": name,
            "cascadeDelete": False,
            "deprecatedAndHidden": False,
            "restrictedDelete": False,
        }
        for parent, name, child, field in schema.CHILD_RELATIONSHIPS
        if parent == obj.name
    ]
    return out


def _field_describe(org: OrgApp, obj: schema.SObject, field: schema.Field) -> dict:
    configured = org.store.org.get("picklists", {}).get(f"{obj.name}.{field.name}")
    if configured is not None:
        picklist = [
            {
                "active": bool(v.get("active", True)),
                "defaultValue": bool(v.get("default", False)),
                "label": v.get("label", v["value"]),
                "validFor": None,
                "value": v["value"],
            }
            for v in configured
        ]
    else:
        picklist = [
            {"active": True, "defaultValue": v == field.default, "label": v, "validFor": None, "value": v}
            for v in field.values
        ]
    return {
        "name": field.name,
        "label": field.label,
        "type": field.type,
        "soapType": schema.SOAP_TYPES.get(field.type, "xsd:string"),
        "length": field.length if field.type in schema.TEXT_TYPES or field.type in schema.ID_TYPES else 0,
        "nillable": field.nillable,
        "createable": field.createable,
        "updateable": field.updateable,
        "defaultedOnCreate": field.default is not None or field.type == "boolean" or field.name == "Id",
        "filterable": True,
        "sortable": True,
        "groupable": field.type not in ("datetime", "double"),
        "unique": field.name == "Username",
        "idLookup": field.name in ("Id", "Username", "Name", "FederationIdentifier", "Email"),
        "externalId": False,
        "calculated": False,
        "custom": False,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship_name,
        "polymorphicForeignKey": field.polymorphic,
        "picklistValues": picklist,
        "restrictedPicklist": field.restricted or configured is not None,
    }
