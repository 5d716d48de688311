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
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from local_salesforce import schema
from local_salesforce.errors import FixtureError
from local_salesforce.messages import Request, Response
from local_salesforce.store import SWITCHES, check_setting

if TYPE_CHECKING:
    from local_salesforce.app import OrgApp

logger = logging.getLogger(__name__)

PREFIX = "/__local_org__/"
FAULT_KINDS = frozenset({"503", "503_html", "500", "lock", "timeout", "latency", "401", "limit"})


def handle(org: OrgApp, request: Request) -> Response:
    action = request.path[len(PREFIX) :].strip("/")
    method = request.method
    try:
        body = json.loads(request.body) if request.body else {}
    except ValueError:
        return Response.json(400, {"error": "body is not JSON"})

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
            unknown = sorted(set(body) - SWITCHES)
            if unknown:
                return Response.json(400, {"error": f"unknown switches: {', '.join(unknown)}"})
            problems = [
                f"{key}: {problem}" for key, value in body.items() if (problem := check_setting(key, value))
            ]
            if problems:
                return Response.json(400, {"error": "; ".join(problems)})
            with org.store.lock:
                org.store.org.update(body)
        return Response.json(200, {k: v for k, v in org.store.org.items() if k in SWITCHES})
    if action == "faults":
        if method == "DELETE":
            org.faults = []
            return Response.json(200, {"ok": True})
        if method == "POST":
            if body.get("kind") not in FAULT_KINDS:
                return Response.json(400, {"error": f"kind must be one of {sorted(FAULT_KINDS)}"})
            with org.lock:
                org.faults.append(dict(body))
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
