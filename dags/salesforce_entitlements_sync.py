"""Sync who holds which access in a Salesforce org into the Postgres warehouse.

One DAG per org of the orgs config (`config/orgs.yaml`): `salesforce_entitlements_sync` for the org named
`default`, `salesforce_entitlements_sync__<name>` for the others. Each run signs in, extracts every
resource type in parallel into staging, normalizes, and publishes the new snapshot in one transaction.
A manual run may override any sync option in its conf, e.g. `{"sync_territories": true}`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param, TriggerRule, task

from salesforce_access.settings import (
    OPTION_HELP,
    RESOURCE_TYPES,
    SALESFORCE_POOL,
    OrgConfig,
    PipelineSettings,
    load_settings,
)

# A sync running longer than this is failed; a later sync then closes its row (sync.STALE_RUN_AFTER).
SYNC_TIMEOUT = timedelta(hours=12)


def build_sync_dag(settings: PipelineSettings, org: OrgConfig) -> DAG:
    params = {
        name: Param(
            value,
            type="object" if isinstance(value, dict) else "boolean",
            title=OPTION_HELP[name][0],
            description=OPTION_HELP[name][1],
        )
        for name, value in org.options.as_dict().items()
    }

    with DAG(
        dag_id=org.dag_id,
        description=f"Sync Salesforce access of org {org.name!r} into the warehouse",
        doc_md=__doc__,
        schedule=org.schedule,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=SYNC_TIMEOUT,
        params=params,
        tags=["salesforce", "access", "sync"],
        default_args={
            "retries": 2,
            "retry_delay": timedelta(seconds=30),
            "retry_exponential_backoff": 2.0,
            "max_retry_delay": timedelta(minutes=10),
        },
    ) as dag:

        @task
        def start_sync(dag_run=None, dag=None) -> dict:
            from salesforce_access import sync

            options = sync.run_step(settings, None, "start_sync", sync.resolve_options, org, dag_run.conf)
            sync_id = sync.run_step(
                settings,
                None,
                "start_sync",
                sync.start_sync,
                settings,
                org,
                options,
                dag_id=dag.dag_id,
                dag_run_id=dag_run.run_id,
            )
            return {"sync_id": sync_id, "options": options.as_dict()}

        @task(pool=SALESFORCE_POOL)
        def preflight(run: dict) -> dict:
            from salesforce_access import sync
            from salesforce_access.settings import SyncOptions

            options = SyncOptions(**run["options"])
            return sync.run_step(
                settings,
                run["sync_id"],
                "preflight",
                sync.sign_in_and_check,
                settings,
                org,
                options,
                run["sync_id"],
            )

        def extract_task(resource_type: str):
            @task(task_id=f"extract_{resource_type}", pool=SALESFORCE_POOL)
            def extract(run: dict, org_info: dict) -> dict:
                from salesforce_access import sync
                from salesforce_access.settings import SyncOptions

                options = SyncOptions(**run["options"])
                return sync.run_step(
                    settings,
                    run["sync_id"],
                    f"extract_{resource_type}",
                    sync.extract_resource_type,
                    settings,
                    org,
                    options,
                    run["sync_id"],
                    resource_type,
                )

            return extract

        @task
        def normalize(run: dict, org_info: dict) -> dict:
            from salesforce_access import sync
            from salesforce_access.settings import SyncOptions

            options = SyncOptions(**run["options"])
            return sync.run_step(
                settings,
                run["sync_id"],
                "normalize",
                sync.normalize,
                settings,
                options,
                run["sync_id"],
                org_info["org_id"],
            )

        @task
        def publish(run: dict, org_info: dict) -> dict:
            from salesforce_access import sync

            return sync.run_step(
                settings, run["sync_id"], "publish", sync.publish, settings, org, run["sync_id"], org_info
            )

        @task(trigger_rule=TriggerRule.ALL_DONE)
        def finalize(run: dict) -> str:
            from airflow.sdk.exceptions import AirflowFailException

            from salesforce_access import sync

            status = sync.finalize(settings, run["sync_id"])
            if status != "succeeded":
                raise AirflowFailException(f"Sync {run['sync_id']} failed; see sync_runs.error_message.")
            return status

        run = start_sync()
        org_info = preflight(run)
        extracts = [extract_task(resource_type)(run, org_info) for resource_type in RESOURCE_TYPES]
        normalized = normalize(run, org_info)
        extracts >> normalized
        published = publish(run, org_info)
        normalized >> published
        published >> finalize(run)

    return dag


_settings = load_settings()
for _org in _settings.orgs:
    globals()[_org.dag_id] = build_sync_dag(_settings, _org)
