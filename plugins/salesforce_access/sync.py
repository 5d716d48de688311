"""The sync job's steps, one function per DAG task; the DAG file only wires them together.

Tasks hand each other only small values (a sync id, counts); records travel through the warehouse's
staging tables, so any worker can run any task. Published tables change only in :func:`publish`, in
one transaction, so a failed run leaves them exactly as they were.
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from salesforce_access import extract, warehouse
from salesforce_access.errors import SalesforceAccessError
from salesforce_access.settings import OrgConfig, PipelineSettings, SyncOptions

log = logging.getLogger(__name__)

# Twice the sync DAG's dagrun_timeout (12 hours): a run still 'running' after this is dead.
STALE_RUN_AFTER = timedelta(hours=24)

DROPPED_GRANTS = {
    "drop_unsynced_principals": "Grant whose principal is not synced (left out by the user options)",
    "drop_unknown_entitlements": "Grant of an entitlement that is not synced",
}


def resolve_options(org: OrgConfig, conf: dict[str, Any] | None) -> SyncOptions:
    """The org's configured options with a manual run's conf on top.

    Raises:
        ConfigurationError: the conf has a key that is not an option (a typo would otherwise be ignored).
    """
    return org.options.merged(conf or {}, where=f"the run conf of the sync of org {org.name!r}")


def start_sync(
    settings: PipelineSettings, org: OrgConfig, options: SyncOptions, *, dag_id: str, dag_run_id: str
) -> str:
    """Create the warehouse tables if needed and record a ``running`` sync; return its id."""
    sync_id = str(uuid.uuid4())

    with warehouse.connect(settings.warehouse_conn_id) as conn:
        warehouse.ensure_schema(conn, settings.schema)
        with conn.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{settings.schema}".sync_runs '
                "(sync_id, config_name, dag_id, dag_run_id, started_at, status, options) "
                "VALUES (%s, %s, %s, %s, now(), 'running', %s)",
                (sync_id, org.name, dag_id, dag_run_id, json.dumps(options.as_dict(), sort_keys=True)),
            )
            # A run of this org still 'running' long after any run may last (the DAG's dagrun_timeout) died
            # without its finalize task (a killed worker or scheduler): close it, so its staging goes too.
            cursor.execute(
                f"UPDATE \"{settings.schema}\".sync_runs SET status = 'failed', finished_at = now(), "
                "error_message = coalesce(error_message, %s) "
                "WHERE config_name = %s AND status = 'running' AND sync_id <> %s AND started_at < now() - %s",
                (
                    f"The run stopped without finishing (killed or timed out); closed by sync {sync_id}.",
                    org.name,
                    sync_id,
                    STALE_RUN_AFTER,
                ),
            )
            # Staging rows of runs that died without cleaning up (a killed worker) are no longer needed.
            for table in (
                "stage_records",
                "stage_resources",
                "stage_entitlements",
                "stage_grants",
                "stage_entitlement_edges",
            ):
                cursor.execute(
                    f'DELETE FROM "{settings.schema}".{table} s USING "{settings.schema}".sync_runs r '
                    "WHERE r.sync_id = s.sync_id AND r.status <> 'running'"
                )

    log.info("Started sync %s of org %s (DAG run %s) with options %s", sync_id, org.name, dag_run_id, options)
    return sync_id


def sign_in_and_check(settings: PipelineSettings, org: OrgConfig, options: SyncOptions, sync_id: str) -> dict:
    """Sign in, read the Organization and the integration user's permissions, and say what the sync can do.

    Raises:
        SalesforceAccessError: the sync cannot run at all (sign-in refused, no API access...).
    """
    from salesforce_access import client as client_module
    from salesforce_access import preflight

    client = client_module.connect(org.salesforce_conn_id)
    report = preflight.run_preflight(client.sf, client.signin, options.as_dict())
    for problem in report.problems:
        log.warning("Preflight: %s", problem)
    for warning in report.warnings:
        log.warning("Preflight: %s", warning)
    # Territories or connected apps that cannot be read fail their own extract task, with the same
    # message, after the rest of the org is read: see preflight.raise_for_sync.
    preflight.raise_for_sync(report, optional_features=False)

    org_info = {
        "org_id": report.org_id,
        "org_name": report.org_name,
        "instance_url": client.signin.instance_url,
        "organization_type": report.edition,
        "is_sandbox": report.is_sandbox,
    }
    with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{settings.schema}".sync_runs SET org_id = %s, api_calls = api_calls + %s '
            "WHERE sync_id = %s",
            (report.org_id, client.api_calls, sync_id),
        )
    log.info(
        "Org %s (%s, %s, sandbox=%s) at %s; integration user %s",
        report.org_id,
        report.org_name,
        report.edition,
        report.is_sandbox,
        org_info["instance_url"],
        report.username,
    )
    return org_info


def extract_resource_type(
    settings: PipelineSettings, org: OrgConfig, options: SyncOptions, sync_id: str, resource_type: str
) -> dict[str, int]:
    """Stage the records of one resource type; record its counts, API calls and coverage."""
    reason = extract.skipped_reason(resource_type, options)
    if reason:
        _record(
            settings,
            sync_id,
            coverage=[{"resource_type": resource_type, "status": "skipped", "reason": reason}],
        )
        log.info("Skipped resource type %s: %s", resource_type, reason)
        return {}

    from salesforce_access import client as client_module

    client = client_module.connect(org.salesforce_conn_id)
    try:
        counts = extract.extract_resource_type(
            client,
            resource_type,
            options,
            sync_id=sync_id,
            warehouse_conn_id=settings.warehouse_conn_id,
            schema=settings.schema,
        )
    finally:
        _record(settings, sync_id, api_calls=client.api_calls)

    _record(settings, sync_id, row_counts={f"extracted.{name}": count for name, count in counts.items()})
    log.info("Staged %s for %s with %s API calls", counts, resource_type, client.api_calls)
    return counts


def normalize(settings: PipelineSettings, options: SyncOptions, sync_id: str, org_id: str) -> dict[str, Any]:
    """Build the org's resources, entitlements and grants (derived ones included) in staging."""
    from salesforce_access.normalize import Normalizer

    resource_types = {rt for rt in extract.RESOURCE_TYPES if extract.skipped_reason(rt, options) is None}
    with warehouse.connect(settings.warehouse_conn_id) as conn:
        with conn.cursor() as cursor:
            for table in ("stage_resources", "stage_entitlements", "stage_grants", "stage_entitlement_edges"):
                cursor.execute(f'DELETE FROM "{settings.schema}".{table} WHERE sync_id = %s', (sync_id,))
        result = Normalizer(
            conn, sync_id=sync_id, org_id=org_id, schema=settings.schema, options=options
        ).run(resource_types)

        params = {"sync_id": sync_id, "org_id": org_id}
        with conn.cursor() as cursor:
            for name, statement in warehouse.sql_statements("derive_grants", settings.schema).items():
                cursor.execute(statement, params)
                if name in DROPPED_GRANTS and cursor.rowcount:
                    result.skipped[DROPPED_GRANTS[name]] += cursor.rowcount
                    log.info("Dropped %s grants: %s", cursor.rowcount, DROPPED_GRANTS[name])
                elif name == "insert_derived_grants":
                    result.rows["derived_grants"] = cursor.rowcount

    coverage = [
        {"status": "skipped_records", "reason": reason, "count": count}
        for reason, count in sorted(result.skipped.items())
    ]
    _record(settings, sync_id, coverage=coverage)
    log.info(
        "Normalized sync %s: %s derived grants, %s", sync_id, result.rows["derived_grants"], result.as_dict()
    )
    return result.as_dict()


def publish(settings: PipelineSettings, org: OrgConfig, sync_id: str, org_info: dict) -> dict[str, int]:
    """Swap in the org's new snapshot, update grant history, the org and the run, in one transaction."""
    params = {
        "sync_id": sync_id,
        "org_id": org_info["org_id"],
        "config_name": org.name,
        "salesforce_org_name": org_info.get("org_name"),
        "instance_url": org_info.get("instance_url"),
        "organization_type": org_info.get("organization_type"),
        "is_sandbox": org_info.get("is_sandbox"),
        "salesforce_conn_id": org.salesforce_conn_id,
    }
    counts: dict[str, int] = {}

    with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
        for name, statement in warehouse.sql_statements("publish", settings.schema).items():
            if name == "mark_succeeded":
                params["row_counts"] = json.dumps(counts)
            cursor.execute(statement, params)
            if name == "check_duplicates" and cursor.rowcount:
                raise SalesforceAccessError(
                    f"Sync {sync_id} produced duplicate grant ids {cursor.fetchall()}; nothing was "
                    "published. This is a bug in the pipeline: please report it with the sync id."
                )
            if name.startswith("history_"):
                counts[name] = cursor.rowcount
            elif name == "published_counts":
                counts.update(dict(cursor.fetchall()))

    log.info("Published sync %s of org %s (%s): %s", sync_id, org.name, params["org_id"], counts)
    return counts


def finalize(settings: PipelineSettings, sync_id: str) -> str:
    """Close the run: a sync that did not publish is marked failed and its staging rows removed."""
    schema = f'"{settings.schema}"'
    with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
        cursor.execute(f"SELECT status, error_message FROM {schema}.sync_runs WHERE sync_id = %s", (sync_id,))
        status, message = cursor.fetchone()
        if status == "succeeded":
            return status
        cursor.execute(
            f"UPDATE {schema}.sync_runs SET status = 'failed', finished_at = coalesce(finished_at, now()), "
            "error_message = coalesce(error_message, %s) WHERE sync_id = %s",
            ("A task of this run did not finish; see its Airflow task log.", sync_id),
        )
        for table in (
            "stage_records",
            "stage_resources",
            "stage_entitlements",
            "stage_grants",
            "stage_entitlement_edges",
        ):
            cursor.execute(f"DELETE FROM {schema}.{table} WHERE sync_id = %s", (sync_id,))
    return "failed"


@contextmanager
def recording_failure(settings: PipelineSettings, sync_id: str | None, step: str, *, last_try: bool = True):
    """Record a failing step's reason on the sync run, then let the failure propagate.

    A retryable failure that Airflow will retry is only logged: the run is not failed yet.
    """
    try:
        yield
    except Exception as exc:
        retryable = getattr(exc, "retryable", False)
        if sync_id and (last_try or not retryable):
            message = f"{step}: {exc}"
            code = getattr(exc, "error_code", None)
            if not isinstance(exc, SalesforceAccessError):
                # Unexpected errors keep their type so the run says more than "failed".
                message = f"{step}: {type(exc).__name__}: {exc}"
                log.error("Unexpected failure in %s:\n%s", step, traceback.format_exc())
            _record_failure(settings, sync_id, message, code)
        raise


def _record_failure(settings: PipelineSettings, sync_id: str, message: str, code: str | None) -> None:
    try:
        with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE \"{settings.schema}\".sync_runs SET status = 'failed', finished_at = now(), "
                "error_message = coalesce(error_message, %s), error_code = coalesce(error_code, %s) "
                "WHERE sync_id = %s",
                (message[:4000], code, sync_id),
            )
    except Exception:  # the original failure matters more than this bookkeeping
        log.exception("Could not record the failure of sync %s", sync_id)


def _record(
    settings: PipelineSettings,
    sync_id: str,
    *,
    api_calls: int = 0,
    row_counts: dict[str, int] | None = None,
    coverage: list[dict] | None = None,
) -> None:
    with warehouse.connect(settings.warehouse_conn_id) as conn, conn.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{settings.schema}".sync_runs SET api_calls = api_calls + %s, '
            "row_counts = row_counts || %s::jsonb, coverage = coverage || %s::jsonb WHERE sync_id = %s",
            (api_calls, json.dumps(row_counts or {}), json.dumps(coverage or []), sync_id),
        )


def run_step(settings: PipelineSettings, sync_id: str | None, step: str, function, *args, **kwargs):
    """Run one task's work inside Airflow: record its failure, and fail at once (no retry) when retrying
    cannot help, so a bad credential does not burn three attempts and an hour of backoff."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    context = get_current_context()
    ti, task = context["ti"], context["task"]
    last_try = ti.try_number > (task.retries or 0)
    try:
        with recording_failure(settings, sync_id, step, last_try=last_try):
            return function(*args, **kwargs)
    except SalesforceAccessError as exc:
        if exc.retryable:
            raise
        raise AirflowFailException(str(exc)) from exc
