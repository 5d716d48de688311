"""The provisioning job's steps, one function per DAG task; the DAG file only wires them together.

A request is one DAG run of ``salesforce_provisioning``. ``validate_request`` records it and checks it
(first the parameters alone, then against the org), ``provision`` plans from the current state and
applies the plan (or only reports it, for a dry run), re-reading Salesforce to confirm, and
``refresh_warehouse`` brings the touched user's published rows up to date. Every request ends as a
``provisioning_requests`` row, rejected ones included; its id is the DAG run id, so a retried task
updates the same row.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from salesforce_access import provisioning_accounts as accounts
from salesforce_access import provisioning_grants as grants
from salesforce_access import warehouse
from salesforce_access.errors import (
    ProvisioningRejected,
    RetryableError,
    SalesforceAccessError,
    SalesforceRefused,
)
from salesforce_access.provisioning_base import (
    ACTIONS,
    ENTITLEMENT_ID,
    SALESFORCE_ID,
    Operation,
    Plan,
    Request,
    checked_id,
    user_by_id,
)
from salesforce_access.settings import OrgConfig, PipelineSettings

if TYPE_CHECKING:
    from salesforce_access.client import SalesforceClient

log = logging.getLogger(__name__)

DRY_RUN_OUTCOMES = {
    "granted": "would_grant",
    "revoked": "would_revoke",
    "created": "would_create",
    "reactivated": "would_reactivate",
    "activated": "would_activate",
    "deactivated": "would_deactivate",
}
REDACTED = "***redacted***"
PARAMETERS = ("action", "entitlement_id", "user_id", "is_active", "account", "dry_run", "salesforce_conn_id")
_SECRET_KEY = re.compile(r"password|secret|token|private_?key|credential", re.IGNORECASE)
VERIFY_WAITS = (0.0, 1.0, 2.0)  # a record just written is not always visible to the next query at once


@dataclass(frozen=True)
class RunInfo:
    """Where a request comes from: the DAG run that carries it."""

    dag_id: str
    run_id: str
    requested_at: datetime
    requested_by: str | None = None


# -- parameters --------------------------------------------------------------------------------------------


def dag_params(settings: PipelineSettings) -> dict[str, Any]:
    """The typed parameters of the DAG: the trigger form, and what the REST API checks (400 when wrong)."""
    from airflow.sdk import Param

    conn_ids = sorted({org.salesforce_conn_id for org in settings.orgs})
    text_or_null = ["null", "string"]
    return {
        "action": Param(
            type="string",
            enum=list(ACTIONS),
            title="Action",
            description=(
                "grant or revoke one entitlement for one user; create_account; update_user_status (activate "
                "or deactivate). delete_account is not offered (Salesforce never deletes users): it is "
                "rejected, deactivate with update_user_status and is_active false instead."
            ),
            values_display={
                "grant": "Grant an entitlement",
                "revoke": "Revoke an entitlement",
                "create_account": "Create (or reactivate) an account",
                "update_user_status": "Activate or deactivate a user",
                "delete_account": "Delete an account (not offered: deactivate instead)",
            },
        ),
        "entitlement_id": Param(
            None,
            type=text_or_null,
            pattern=ENTITLEMENT_ID,
            title="Entitlement id",
            description=(
                "For grant and revoke: <resource_type>:<Salesforce id>:<slug>, as in the warehouse's "
                "entitlements table, e.g. permission:0PS...:assigned, group:00G...:member, "
                "territory:0MI...:role:Sales Rep."
            ),
        ),
        "user_id": Param(
            None,
            type=text_or_null,
            pattern=SALESFORCE_ID,
            title="User id",
            description=(
                "For grant, revoke and update_user_status: the user's Salesforce id (005..., 15 or 18 "
                "characters)."
            ),
        ),
        "is_active": Param(
            None,
            type=["null", "boolean"],
            title="Active",
            description="For update_user_status: true activates the user, false deactivates it.",
        ),
        "account": Param(
            None,
            type=["null", "object"],
            title="New account",
            description=(
                "For create_account: email, first_name, last_name, alias (at most 8 characters), profile "
                "(id or name), time_zone (e.g. America/New_York); optional username (default: the email), "
                "locale and language (default en_US), email_encoding (default UTF-8), and fields: any other "
                'User field by API name, e.g. {"FederationIdentifier": "jdoe"}.'
            ),
            properties={
                "email": {"type": "string", "title": "Email"},
                "first_name": {"type": "string", "title": "First name"},
                "last_name": {"type": "string", "title": "Last name"},
                "alias": {"type": "string", "title": "Alias"},
                "profile": {"type": "string", "title": "Profile id or name"},
                "time_zone": {"type": "string", "title": "Time zone"},
                "username": {"type": text_or_null, "title": "Username"},
                "locale": {"type": text_or_null, "title": "Locale"},
                "language": {"type": text_or_null, "title": "Language"},
                "email_encoding": {"type": text_or_null, "title": "Email encoding"},
                "fields": {"type": ["null", "object"], "title": "Other User fields by API name"},
            },
            # Unknown keys are rejected by the first task, which records the request with secrets
            # blanked; a schema refusal would print the whole object, values and all, in the log.
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Check the request and report exactly what would change, without changing anything.",
        ),
        "salesforce_conn_id": Param(
            "salesforce_default" if "salesforce_default" in conn_ids else conn_ids[0],
            type="string",
            enum=conn_ids,
            title="Salesforce connection",
            description="The Airflow connection of the org to change; the orgs config names one per org.",
        ),
    }


def recorded_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as stored with the request: every value under a secret-looking key is blanked."""

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if _SECRET_KEY.search(str(k)) else scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return scrub({key: params.get(key) for key in PARAMETERS})


def check_parameters(request: Request) -> None:
    """The rules between parameters that a per-parameter schema cannot express; no Salesforce call.

    Raises:
        ProvisioningRejected: the action and its parameters do not fit; the message names the parameter.
    """
    if request.action == "delete_account":
        raise ProvisioningRejected(
            "Parameter action: deleting accounts is not offered; Salesforce does not delete users. To take "
            "someone's access away, deactivate the user: action update_user_status with user_id and "
            "is_active false.",
            parameter="action",
            error_code="NOT_OFFERED",
        )
    if request.action not in ACTIONS:
        raise ProvisioningRejected(
            f"Parameter action: {request.action!r} is not one of {', '.join(ACTIONS[:4])}.",
            parameter="action",
            error_code="INVALID_PARAMETER",
        )
    needs = {
        "grant": ("entitlement_id", "user_id"),
        "revoke": ("entitlement_id", "user_id"),
        "create_account": ("account",),
        "update_user_status": ("user_id", "is_active"),
    }[request.action]
    given = {
        "entitlement_id": request.entitlement_id,
        "user_id": request.user_id,
        "is_active": request.is_active,
        "account": request.account,
    }
    for name in needs:
        if given[name] is None:
            raise ProvisioningRejected(
                f"Parameter {name}: {request.action} needs it, and it is empty.",
                parameter=name,
                error_code="MISSING_PARAMETER",
            )
    for name, value in given.items():
        if name not in needs and value is not None:
            users = sorted(action for action, keys in _USED_BY.items() if name in keys)
            raise ProvisioningRejected(
                f"Parameter {name}: {request.action} does not use it (it is for {' and '.join(users)}), but "
                f"it is set to {value!r}. Leave it empty, or choose the action it belongs to.",
                parameter=name,
                error_code="INVALID_PARAMETER",
            )
    if request.action == "create_account":
        accounts.check_account(request.account)


_USED_BY = {
    "grant": ("entitlement_id", "user_id"),
    "revoke": ("entitlement_id", "user_id"),
    "create_account": ("account",),
    "update_user_status": ("user_id", "is_active"),
}


def org_for_connection(settings: PipelineSettings, conn_id: str) -> OrgConfig:
    """The org of the orgs config that uses this Salesforce connection.

    Raises:
        ProvisioningRejected: no org uses it.
    """
    for org in settings.orgs:
        if org.salesforce_conn_id == conn_id:
            return org
    known = ", ".join(sorted(org.salesforce_conn_id for org in settings.orgs))
    raise ProvisioningRejected(
        f"Parameter salesforce_conn_id: {conn_id!r} is not the connection of any org in the orgs config "
        f"(known: {known}). Use one of those, or add the org to the orgs config.",
        parameter="salesforce_conn_id",
        error_code="UNKNOWN_ORG",
    )


# -- the steps ---------------------------------------------------------------------------------------------


def preflight(
    settings: PipelineSettings, params: dict[str, Any], run: RunInfo, conf: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Record the request, sign in and check the integration user may do what it asks, before any work.

    Raises:
        MissingPermissionError: the integration user lacks a permission this action needs; the message
            names it and where to add it.
        FeatureNotEnabledError: the org has no API access.
    """
    from salesforce_access import preflight as preflight_module

    request = Request.from_params(run.run_id, params)
    _start(settings, request, params, run)
    # Airflow keeps conf keys that are no parameter and says nothing: a typo such as "dryrun" must not
    # turn a dry run into a change.
    unknown = sorted(set(conf or {}) - set(PARAMETERS))
    if unknown:
        raise ProvisioningRejected(
            f"Parameter {unknown[0]}: the request has unknown parameter(s) {', '.join(map(repr, unknown))}; "
            f"the parameters are {', '.join(PARAMETERS)}. Fix the spelling and request again.",
            parameter=unknown[0],
            error_code="UNKNOWN_PARAMETER",
        )
    org = org_for_connection(settings, request.salesforce_conn_id)
    client = _connect(request.salesforce_conn_id)

    report = preflight_module.run_preflight(client.sf, client.signin, org.options.as_dict())
    for problem in report.problems:
        log.warning("Preflight of request %s: %s", request.request_id, problem)
    resource_type = (request.entitlement_id or "").split(":", 1)[0] or None
    if request.action in ("grant", "revoke"):
        preflight_module.raise_for_provisioning(report, request.action, resource_type)
    elif request.action in ("create_account", "update_user_status"):
        preflight_module.raise_for_provisioning(report, request.action)

    log.info(
        "Preflight of request %s: org %s (%s), integration user %s may %s",
        request.request_id, report.org_id, report.edition, report.username, request.action,
    )  # fmt: skip
    return {"org_id": report.org_id, "username": report.username}


def validate_request(
    settings: PipelineSettings, params: dict[str, Any], run: RunInfo, checked: dict[str, Any]
) -> dict[str, Any]:
    """Check the request's parameters, then check them against the org; return the resolved request.

    ``checked`` is what :func:`preflight` returned: the request is already recorded and the org known.

    Raises:
        ProvisioningRejected: the request is invalid; it is recorded as ``rejected``.
    """
    request = Request.from_params(run.run_id, params)
    log.info(
        "Request %s: %s entitlement=%s user=%s dry_run=%s on %s",
        request.request_id, request.action, request.entitlement_id, request.user_id, request.dry_run,
        request.salesforce_conn_id,
    )  # fmt: skip

    org = org_for_connection(settings, request.salesforce_conn_id)
    check_parameters(request)

    client = _connect(request.salesforce_conn_id)
    org_id = checked["org_id"]
    user_id = checked_id(request.user_id, "user_id") if request.user_id else None
    _execute_statement(
        settings, "set_org", {"request_id": request.request_id, "org_id": org_id, "user_id": user_id}
    )
    request = Request(**{**request.as_dict(), "user_id": user_id})
    target = _resolve(client, request, org)

    # The account's values stay out of the log; names and ids say enough.
    log.info(
        "Request %s is valid: %s", request.request_id, {k: v for k, v in target.items() if k != "values"}
    )
    return {"request": request.as_dict(), "org_id": org_id, "org_name": org.name, "target": target}


def _resolve(client: SalesforceClient, request: Request, org: OrgConfig) -> dict[str, Any]:
    if request.action == "create_account":
        return accounts.resolve_create_account(client, request)
    user = _checked_user(client, request)
    if request.action == "update_user_status":
        return accounts.resolve_user_status(request, user, client.signin.user_id if client.signin else None)
    return {**grants.resolve(client, request, user, org), "username": user["Username"]}


def _checked_user(client: SalesforceClient, request: Request) -> dict[str, Any]:
    assert request.user_id
    prefix = request.user_id[:3]
    if prefix == "00G":
        raise ProvisioningRejected(
            f"Parameter user_id: {request.user_id} is a group. Only users are provisioned: nested group "
            "membership is not offered. Grant the entitlement to each user, or add the group in Salesforce "
            "Setup.",
            parameter="user_id",
            error_code="GROUP_PRINCIPAL",
        )
    checked_id(request.user_id, "user_id", expected="User")
    user = user_by_id(client, request.user_id)
    if user is None:
        raise ProvisioningRejected(
            f"Parameter user_id: no user {request.user_id} in this org. Check the id against the org the "
            "salesforce_conn_id parameter selects.",
            parameter="user_id",
            error_code="UNKNOWN_USER",
        )
    if not user.get("UserType"):
        raise ProvisioningRejected(
            f"Parameter user_id: user {user['Username']!r} has no UserType, so Salesforce cannot say what "
            "it may hold; fix the user in Salesforce first.",
            parameter="user_id",
            error_code="USER_TYPE_MISMATCH",
        )
    return user


def provision(settings: PipelineSettings, resolved: dict[str, Any]) -> dict[str, Any]:
    """Plan from the current state; apply and verify the plan, or only record it for a dry run."""
    request = Request(**resolved["request"])
    target = resolved["target"]
    client = _connect(request.salesforce_conn_id)
    planner = _planner(request)
    plan = planner(client, request, target)
    changes = [operation.as_dict() for operation in plan.operations]

    if request.dry_run:
        status, outcome = "dry_run", DRY_RUN_OUTCOMES.get(plan.outcome, plan.outcome)
    elif not plan.operations:
        status, outcome = "no_change", plan.outcome
    else:
        status, outcome = "succeeded", plan.outcome
        try:
            record_id = _apply(client, request, target, plan)
        except _NothingLeftToDo as done:
            status, outcome, changes, record_id = "no_change", done.plan.outcome, [], done.plan.record_id
        plan.record_id = plan.record_id or record_id
        plan.user_id = plan.user_id or (record_id if request.action == "create_account" else None)

    _finish(
        settings,
        request.request_id,
        status=status,
        outcome=outcome,
        record_id=plan.record_id,
        changes=changes,
        user_id=plan.user_id,
    )
    log.info(
        "Request %s: %s (%s); Salesforce record %s; %s change(s)%s",
        request.request_id, status, outcome, plan.record_id, len(changes),
        " (dry run: nothing changed)" if request.dry_run else "",
    )  # fmt: skip
    return {
        "request_id": request.request_id,
        "org_id": resolved["org_id"],
        "org_name": resolved["org_name"],
        "conn_id": request.salesforce_conn_id,
        "user_id": plan.user_id,
        "status": status,
    }


def _planner(request: Request) -> Callable[[SalesforceClient, Request, dict], Plan]:
    if request.action == "create_account":
        return accounts.plan_create_account
    if request.action == "update_user_status":
        return accounts.plan_user_status
    return grants.plan


class _NothingLeftToDo(Exception):  # noqa: N818 - a signal, not an error
    """Someone else made the change between planning and writing; the request is then a no-op."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan.outcome)
        self.plan = plan


def _apply(client: SalesforceClient, request: Request, target: dict, plan: Plan) -> str | None:
    """Write the plan, then read back until the plan comes out empty.

    Raises:
        _NothingLeftToDo: a duplicate or a vanished record shows the change happened meanwhile.
        SalesforceRefused: Salesforce refused a write or the read-back disagrees; the message says why.
    """
    record_id = None
    for operation in plan.operations:
        try:
            record_id = _write(client, operation) or record_id
        except SalesforceAccessError as exc:
            if exc.error_code in ("DUPLICATE_VALUE", "NOT_FOUND", "ENTITY_IS_DELETED"):
                replanned = _planner(request)(client, request, target)
                if not replanned.operations:
                    log.info(
                        "Request %s: %s happened meanwhile (%s)",
                        request.request_id,
                        plan.outcome,
                        exc.error_code,
                    )
                    raise _NothingLeftToDo(replanned) from exc
            if isinstance(exc, SalesforceRefused):
                raise _explained(exc, request, target, operation) from exc
            raise

    for wait in VERIFY_WAITS:
        time.sleep(wait)
        replanned = _planner(request)(client, request, target)
        if not replanned.operations:
            return record_id or replanned.record_id
    raise SalesforceRefused(
        f"Salesforce accepted the change for request {request.request_id}, but reading it back still shows "
        f"{[o.as_dict() for o in replanned.operations]} to do. Check the record in Salesforce (an "
        "automation may have reverted it) and run the request again.",
        error_code="VERIFY_FAILED",
    )


def _write(client: SalesforceClient, operation: Operation) -> str | None:
    context = f"{operation.operation} {operation.sobject}" + (
        f" {operation.record_id}" if operation.record_id else ""
    )
    log.info("Salesforce write: %s %s", context, sorted(operation.values))
    if operation.operation == "create":
        result = client.call(
            lambda sf: getattr(sf, operation.sobject).create(operation.values), context=context
        )
        return result.get("id") if isinstance(result, dict) else None
    if operation.operation == "update":
        client.call(
            lambda sf: getattr(sf, operation.sobject).update(operation.record_id, operation.values),
            context=context,
        )
        return operation.record_id
    client.call(lambda sf: getattr(sf, operation.sobject).delete(operation.record_id), context=context)
    return operation.record_id


def _explained(
    exc: SalesforceRefused, request: Request, target: dict, operation: Operation
) -> SalesforceRefused:
    """Salesforce's refusal of a write, said in terms of the request's parameters, with the fix."""
    code = exc.error_code or ""
    message, fields = _refusal_details(exc)
    said = f'Salesforce answered "{message}"' if message else f"Salesforce answered {code}"
    creating_user = request.action == "create_account"
    parameter = accounts.refusal_parameter(fields[0]) if creating_user and fields else None

    if code == "DUPLICATE_USERNAME":
        text = (
            f"Parameter account.username: {target.get('username')!r} is already taken ({said}). Usernames "
            "are unique across all Salesforce orgs, sandboxes and production included. Choose another "
            "account.username (it need not be the email address)."
        )
    elif code == "FIELD_CUSTOM_VALIDATION_EXCEPTION":
        where = f"Parameter {parameter}: " if parameter else ""
        fix = f"Set {parameter}" if parameter else "Add the field the rule asks for under account.fields"
        text = f"{where}a validation rule of the org refused the change ({said}). {fix} and request again."
    elif code == "REQUIRED_FIELD_MISSING":
        needed = ", ".join(accounts.refusal_parameter(f) for f in fields) or "a field"
        text = f"Parameter {needed}: Salesforce requires it for this user ({said}). Add it and request again."
    elif code == "LICENSE_LIMIT_EXCEEDED":
        profile = target.get("profile_name") or target.get("fallback_profile_name") or target.get("name")
        license_name = target.get("license_name")
        what = f"profile {profile!r}" + (f" (license {license_name!r})" if license_name else "")
        text = (
            f"No free license seat for {what} ({said}). Free a seat by deactivating a user of that license, "
            "buy more seats, or choose a profile of another license."
        )
    elif code == "DUPLICATE_COMM_NICKNAME":
        text = (
            f"Parameter account.fields.CommunityNickname: another user already has this nickname ({said}). "
            "Give a unique one, or leave it out and Salesforce generates one."
        )
    else:
        where = f"Parameter {parameter}: " if parameter else ""
        text = (
            f"{where}Salesforce refused to {operation.operation} {operation.sobject} for request "
            f"{request.request_id} ({said}). Fix what it names and request again."
        )
    return SalesforceRefused(text, error_code=code or None)


def _refusal_details(exc: SalesforceRefused) -> tuple[str, list[str]]:
    """Salesforce's own message and field list, kept on the client error the refusal was translated from."""
    content = getattr(exc.__cause__, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        message = str(content[0].get("message") or "").replace("<br>", " ")
        return message, [str(f) for f in content[0].get("fields") or []]
    return "", []


def refresh_warehouse(settings: PipelineSettings, result: dict[str, Any]) -> dict[str, int]:
    """Re-read the touched user from Salesforce and replace its rows in the published tables."""
    from salesforce_access import provisioning_refresh as refresh

    request_id, org_id, user_id = result["request_id"], result["org_id"], result.get("user_id")
    if result["status"] not in ("succeeded", "no_change") or not user_id:
        log.info("Request %s is %s: the warehouse stays as it is", request_id, result["status"])
        return {}
    if not refresh.org_is_synced(settings, org_id):
        log.info("Org %s has not been synced yet: its first sync brings user %s in", org_id, user_id)
        return {}
    org = org_for_connection(settings, result["conn_id"])
    try:
        client = _connect(result["conn_id"])
        records = refresh.read_user_records(client, user_id, org)
        counts = refresh.refresh_user(settings, org, org_id, user_id, request_id, records)
    except Exception as exc:
        _execute_statement(
            settings,
            "warehouse_failed",
            {
                "request_id": request_id,
                "warehouse_error": f"The Salesforce change is done, but the warehouse was not updated: {exc}"[
                    :4000
                ],
            },
        )
        raise
    _execute_statement(settings, "warehouse_refreshed", {"request_id": request_id})
    return counts


def finalize(settings: PipelineSettings, request_id: str) -> str:
    """Close a request a killed task left open, and fail the run when the request did not succeed.

    Raises:
        ProvisioningRejected, SalesforceAccessError: the request was rejected or failed; the message is its
            recorded error.
    """
    with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
        statements = warehouse.sql_statements("provisioning", settings.schema)
        cursor.execute(statements["fail_unfinished"], {"request_id": request_id})
        cursor.execute(statements["get_request"], {"request_id": request_id})
        row = cursor.fetchone()
    if row is None:
        raise SalesforceAccessError(
            f"Request {request_id} was never recorded; see the validate_request task log."
        )
    status, outcome, error_code, error_message, warehouse_error = row
    if status == "rejected":
        raise ProvisioningRejected(
            f"Request {request_id} was rejected: {error_message}", error_code=error_code
        )
    if status == "failed":
        raise SalesforceAccessError(f"Request {request_id} failed: {error_message}", error_code=error_code)
    if warehouse_error:
        raise SalesforceAccessError(f"Request {request_id} {outcome}; {warehouse_error}")
    log.info("Request %s finished: %s (%s)", request_id, status, outcome)
    return status


# -- bookkeeping -------------------------------------------------------------------------------------------


def _start(settings: PipelineSettings, request: Request, params: dict[str, Any], run: RunInfo) -> None:
    with warehouse.connect(settings.warehouse_conn_id) as conn:
        warehouse.ensure_schema(conn, settings.schema)
        with conn.cursor() as cursor:
            cursor.execute(
                warehouse.sql_statements("provisioning", settings.schema)["start_request"],
                {
                    "request_id": request.request_id,
                    "salesforce_conn_id": request.salesforce_conn_id,
                    "dag_id": run.dag_id,
                    "dag_run_id": run.run_id,
                    "requested_at": run.requested_at,
                    "requested_by": run.requested_by,
                    "action": request.action,
                    "parameters": json.dumps(recorded_parameters(params), sort_keys=True),
                    "user_id": request.user_id,
                    "entitlement_id": request.entitlement_id,
                    "dry_run": request.dry_run,
                },
            )


def _finish(
    settings: PipelineSettings,
    request_id: str,
    *,
    status: str,
    outcome: str | None = None,
    record_id: str | None = None,
    changes: list[dict] | None = None,
    user_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    _execute_statement(
        settings,
        "finish_request",
        {
            "request_id": request_id,
            "status": status,
            "outcome": outcome,
            "salesforce_record_id": record_id,
            "changes": json.dumps(changes) if changes is not None else None,
            "user_id": user_id,
            "error_code": error_code,
            "error_message": error_message[:4000] if error_message else None,
        },
    )


def _execute_statement(settings: PipelineSettings, name: str, params: dict[str, Any]) -> None:
    with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
        cursor.execute(warehouse.sql_statements("provisioning", settings.schema)[name], params)


@contextmanager
def recording(settings: PipelineSettings, request_id: str, step: str, *, last_try: bool = True):
    """Record why a step failed on the request (rejected or failed), then let the failure propagate.

    A retryable failure that Airflow will retry is only logged: the request is not failed yet.
    """
    try:
        yield
    except ProvisioningRejected as exc:
        log.error("Request %s rejected: %s", request_id, exc.message)
        _finish_quietly(settings, request_id, "rejected", exc.error_code or "INVALID_REQUEST", exc.message)
        raise
    except SalesforceAccessError as exc:
        if last_try or not exc.retryable:
            log.error("Request %s failed in %s: %s", request_id, step, exc)
            _finish_quietly(settings, request_id, "failed", exc.error_code, exc.message)
        raise
    except Exception as exc:
        log.error("Unexpected failure of request %s in %s:\n%s", request_id, step, traceback.format_exc())
        _finish_quietly(settings, request_id, "failed", None, f"{step}: {type(exc).__name__}: {exc}")
        raise


def _finish_quietly(
    settings: PipelineSettings, request_id: str, status: str, code: str | None, message: str
) -> None:
    try:
        _finish(settings, request_id, status=status, error_code=code, error_message=message)
    except Exception:  # the original failure matters more than this bookkeeping
        log.exception("Could not record the %s status of request %s", status, request_id)


# -- Salesforce --------------------------------------------------------------------------------------------


def _connect(conn_id: str) -> SalesforceClient:
    from salesforce_access import client as client_module

    return client_module.connect(conn_id)


# -- Airflow -----------------------------------------------------------------------------------------------


def run_info(context: dict[str, Any]) -> RunInfo:
    dag_run = context["dag_run"]
    return RunInfo(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        requested_at=getattr(dag_run, "run_after", None) or datetime.now(UTC),
        requested_by=getattr(dag_run, "triggering_user_name", None),
    )


def run_step(
    settings: PipelineSettings, step: str, function: Callable, *args: Any, record: bool = True
) -> Any:
    """Run one task's work inside Airflow: record a failure on the request (unless ``record`` is false:
    a failed warehouse refresh does not undo a Salesforce change), and fail at once, without retries, when
    retrying cannot help."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    context = get_current_context()
    ti, task = context["ti"], context["task"]
    last_try = ti.try_number > (task.retries or 0)
    request_id = context["dag_run"].run_id
    try:
        if not record:
            return function(*args)
        with recording(settings, request_id, step, last_try=last_try):
            return function(*args)
    except SalesforceAccessError as exc:
        if isinstance(exc, RetryableError) and not last_try:
            raise
        raise AirflowFailException(str(exc)) from exc
