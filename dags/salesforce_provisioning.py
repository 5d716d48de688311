"""Provision access in a Salesforce org: one request per manual run.

Actions: `grant` / `revoke` one entitlement (`entitlement_id`) for one user (`user_id`); `create_account`
(`account`); `update_user_status` (`user_id`, `is_active`). `dry_run` reports what would change and changes
nothing; `salesforce_conn_id` picks the org. Users are never deleted: deactivate them instead.

Every request, rejected ones included, is recorded in the warehouse table `provisioning_requests`, and a
change is reflected in `grants`, `resources` and `grant_history` for the touched user right away.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, TriggerRule, task

from salesforce_access import provisioning
from salesforce_access.settings import SALESFORCE_POOL, load_settings

settings = load_settings()

with DAG(
    dag_id="salesforce_provisioning",
    description="Grant or revoke Salesforce access, create accounts, activate or deactivate users",
    doc_md=__doc__,
    schedule=None,
    allowed_run_types=["manual"],
    catchup=False,
    max_active_runs=1,
    params=provisioning.dag_params(settings),
    tags=["salesforce", "access", "provisioning"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=5),
    },
) as dag:

    @task(pool=SALESFORCE_POOL)
    def preflight(params=None, dag_run=None) -> dict:
        from airflow.sdk import get_current_context

        run = provisioning.run_info(get_current_context())
        return provisioning.run_step(
            settings, "preflight", provisioning.preflight, settings, params, run, dict(dag_run.conf or {})
        )

    @task(pool=SALESFORCE_POOL)
    def validate_request(params=None, ti=None) -> dict:
        from airflow.sdk import get_current_context

        run = provisioning.run_info(get_current_context())
        return provisioning.run_step(
            settings,
            "validate_request",
            provisioning.validate_request,
            settings,
            params,
            run,
            ti.xcom_pull(task_ids="preflight"),
        )

    # Safe to retry: it plans from the current state, so a write that already happened is not repeated.
    @task(pool=SALESFORCE_POOL)
    def provision(resolved: dict) -> dict:
        return provisioning.run_step(settings, "provision", provisioning.provision, settings, resolved)

    @task(pool=SALESFORCE_POOL)
    def refresh_warehouse(result: dict) -> dict:
        return provisioning.run_step(
            settings, "refresh_warehouse", provisioning.refresh_warehouse, settings, result, record=False
        )

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def finalize(dag_run=None) -> str:
        return provisioning.run_step(
            settings, "finalize", provisioning.finalize, settings, dag_run.run_id, record=False
        )

    resolved = validate_request()
    preflight() >> resolved
    result = provision(resolved)
    refresh_warehouse(result) >> finalize()
