-- Bookkeeping of provisioning requests: one row per DAG run of salesforce_provisioning.
-- Statements are picked by their "-- name:" line; parameters are psycopg2 %(name)s placeholders.

-- name: start_request
-- A retried or cleared first task starts the same request again instead of adding a second row.
INSERT INTO {schema}.provisioning_requests
    (request_id, salesforce_conn_id, dag_id, dag_run_id, requested_at, requested_by, action, parameters,
     user_id, entitlement_id, dry_run, status)
VALUES (%(request_id)s, %(salesforce_conn_id)s, %(dag_id)s, %(dag_run_id)s, %(requested_at)s, %(requested_by)s,
        %(action)s, %(parameters)s, %(user_id)s, %(entitlement_id)s, %(dry_run)s, 'running')
ON CONFLICT (request_id) DO UPDATE
SET status = 'running', finished_at = NULL, outcome = NULL, salesforce_record_id = NULL, changes = NULL,
    error_code = NULL, error_message = NULL, warehouse_refreshed_at = NULL, warehouse_error = NULL,
    parameters = EXCLUDED.parameters, action = EXCLUDED.action, user_id = EXCLUDED.user_id,
    entitlement_id = EXCLUDED.entitlement_id, dry_run = EXCLUDED.dry_run;

-- name: set_org
UPDATE {schema}.provisioning_requests SET org_id = %(org_id)s, user_id = %(user_id)s
WHERE request_id = %(request_id)s;

-- name: finish_request
UPDATE {schema}.provisioning_requests
SET status = %(status)s, outcome = %(outcome)s, salesforce_record_id = %(salesforce_record_id)s,
    changes = %(changes)s, error_code = %(error_code)s, error_message = %(error_message)s,
    user_id = coalesce(%(user_id)s, user_id), finished_at = now()
WHERE request_id = %(request_id)s;

-- name: warehouse_refreshed
UPDATE {schema}.provisioning_requests SET warehouse_refreshed_at = now(), warehouse_error = NULL
WHERE request_id = %(request_id)s;

-- name: warehouse_failed
UPDATE {schema}.provisioning_requests SET warehouse_error = %(warehouse_error)s
WHERE request_id = %(request_id)s;

-- name: get_request
SELECT status, outcome, error_code, error_message, warehouse_error
FROM {schema}.provisioning_requests WHERE request_id = %(request_id)s;

-- name: fail_unfinished
-- A task that died without recording (a killed worker) leaves the request running: close it.
UPDATE {schema}.provisioning_requests
SET status = 'failed', finished_at = now(),
    error_message = coalesce(error_message, 'A task of this run did not finish; see its Airflow task log.')
WHERE request_id = %(request_id)s AND status = 'running';
