"""The control API under `/__local_org__/`: test set-up and inspection. The pipeline never calls it.

POST   reset             back to the fixture the server started with; forget sessions, cursors,
                         faults, journal and counters
POST   fixture           body: a fixture; load it instead (400 {"error"} naming the problem)
GET    switches          the org switches (FIXTURES.md, `org` keys except credentials and apps)
POST   switches          body: {switch: value, ...}; 400 for unknown switches or wrong types
POST   faults            body: {kind, path_contains, method?, count?, probability?, retry_after?,
                         latency_ms?, record_id?}; kinds in FAULT_KINDS; count null = every call
GET    faults            the pending faults;  DELETE faults  drops them
POST   expire_sessions   end every session issued so far -> {"expired": n}
GET    journal           [{time, method, path, status, ms}]; sign-in calls without query string,
                         never bodies or headers
GET    api_calls         {"api_usage", "logins", "daily_api_limit"}
GET    records/{Object}  every stored record of the object, in Id order

Bodies are JSON objects (none, or {}, for the actions that take nothing); anything else, unknown
fields or values of the wrong type answer 400 {"error"} saying what is wrong.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local_salesforce import schema
from local_salesforce.errors import FixtureError
from local_salesforce.messages import Request, Response
from local_salesforce.store import SWITCHES, check_setting, json_type_name

if TYPE_CHECKING:
    from local_salesforce.app import OrgApp

logger = logging.getLogger(__name__)

PREFIX = "/__local_org__/"
FAULT_KINDS = frozenset({"503", "503_html", "500", "lock", "timeout", "latency", "401", "limit"})
_ACTIONS = frozenset({"reset", "fixture", "switches", "faults", "expire_sessions", "journal", "api_calls"})


class _BadBody(Exception):
    """A control body that is not what the action takes; the message says what is wrong."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")  # Python's json would take NaN and Infinity


def _read_body(request: Request) -> dict:
    """The body as a JSON object; an empty body is an empty object."""
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body, parse_constant=_no_constants)
    except RecursionError:
        raise _BadBody("body is not JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
        raise _BadBody(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _BadBody(f"body must be a JSON object, got {json_type_name(body)}")
    return body


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# What each fault field may hold, and how to say so; None is allowed for all but `kind`.
_FAULT_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "kind": (lambda v: v in FAULT_KINDS, f"must be one of {', '.join(sorted(FAULT_KINDS))}"),
    "path_contains": (lambda v: isinstance(v, str), "must be a string"),
    "method": (lambda v: isinstance(v, str) and v.isalpha(), "must be an HTTP method such as GET"),
    "count": (lambda v: _is_int(v) and v >= 1, "must be an integer of at least 1, or null for every call"),
    "probability": (lambda v: _is_number(v) and 0 <= v <= 1, "must be a number from 0 to 1"),
    "retry_after": (lambda v: _is_int(v) and v >= 0, "must be a non-negative integer"),
    "latency_ms": (lambda v: _is_number(v) and v >= 0, "must be a non-negative number"),
    "record_id": (lambda v: isinstance(v, str), "must be a string"),
}


def _check_fault(body: dict) -> dict:
    unknown = sorted(set(body) - set(_FAULT_FIELDS))
    if unknown:
        raise _BadBody(f"unknown fault fields: {', '.join(unknown)} (known: {', '.join(_FAULT_FIELDS)})")
    if body.get("kind") is None:
        raise _BadBody(f"kind is required and {_FAULT_FIELDS['kind'][1]}")
    for key, value in body.items():
        valid, rule = _FAULT_FIELDS[key]
        if value is not None and not valid(value):
            raise _BadBody(f"{key} {rule}, got {json.dumps(value)}")
    return dict(body)


def _check_switches(body: dict) -> dict:
    unknown = sorted(set(body) - SWITCHES)
    if unknown:
        raise _BadBody(f"unknown switches: {', '.join(unknown)}")
    problems = [f"{key}: {problem}" for key, value in body.items() if (problem := check_setting(key, value))]
    if problems:
        raise _BadBody("; ".join(problems))
    return body


def handle(org: OrgApp, request: Request) -> Response:
    try:
        return _dispatch(org, request)
    except _BadBody as exc:
        return Response.json(400, {"error": str(exc)})


def _dispatch(org: OrgApp, request: Request) -> Response:
    action = request.path[len(PREFIX) :].strip("/")
    method = request.method
    body = _read_body(request)
    known = action in _ACTIONS or action.startswith("records/")
    takes_body = (method, action) in (("POST", "fixture"), ("POST", "switches"), ("POST", "faults"))
    if body and known and not takes_body:
        raise _BadBody(f"{method} {action} takes no body fields, got: {', '.join(sorted(body))}")

    if action == "reset" and method == "POST":
        org.reset()
        return Response.json(200, {"ok": True})
    if action == "fixture" and method == "POST":
        try:
            org.reset(body, source="control fixture")
        except FixtureError as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(200, {"ok": True})
    if action == "switches":
        if method == "POST":
            changes = _check_switches(body)
            with org.store.lock:
                org.store.org.update(changes)
        return Response.json(200, {k: v for k, v in org.store.org.items() if k in SWITCHES})
    if action == "faults":
        if method == "DELETE":
            org.faults = []
            return Response.json(200, {"ok": True})
        if method == "POST":
            fault = _check_fault(body)
            with org.lock:
                org.faults.append(fault)
            return Response.json(200, {"ok": True})
        return Response.json(200, org.faults)
    if action == "expire_sessions" and method == "POST":
        return Response.json(200, {"expired": org.sessions.expire_all()})
    if action == "journal" and method == "GET":
        return Response.json(200, list(org.journal))
    if action == "api_calls" and method == "GET":
        return Response.json(
            200,
            {
                "api_usage": org.api_usage,
                "logins": org.logins,
                "daily_api_limit": org.store.org["daily_api_limit"],
            },
        )
    if action.startswith("records/") and method == "GET":
        obj = schema.get_object(action.split("/", 1)[1])
        if obj is None:
            return Response.json(404, {"error": f"unknown object {action.split('/', 1)[1]}"})
        with org.store.lock:
            table = org.store.tables[obj.name]
            return Response.json(200, [table[key] for key in sorted(table)])
    return Response.json(404, {"error": f"no control action {method} {action}"})
