-- Publish one sync: swap the org's snapshot and record history, all in the caller's one transaction.
-- Parameters: %(sync_id)s, %(org_id)s and the org's facts; the sync's start time is when this state
-- was read, so it stamps history.

-- name: lock_org
-- Two syncs of one org never publish at the same time.
SELECT pg_advisory_xact_lock(hashtext('salesforce_access:' || %(org_id)s));

-- name: seen_at
-- The scope of a sync is what its options read; when it differs from the org's previous successful
-- sync, a grant that disappears may only have left that scope, and history says so.
CREATE TEMP TABLE publishing ON COMMIT DROP AS
SELECT r.started_at AS seen_at,
       coalesce((
           SELECT p.options - 'username_as_email' - 'license_profile_map'
                  IS DISTINCT FROM r.options - 'username_as_email' - 'license_profile_map'
           FROM {schema}.sync_runs p
           WHERE p.org_id = %(org_id)s AND p.status = 'succeeded' AND p.sync_id <> r.sync_id
           ORDER BY p.started_at DESC LIMIT 1), false) AS scope_changed
FROM {schema}.sync_runs r WHERE r.sync_id = %(sync_id)s;

-- name: check_duplicates
SELECT grant_id, count(*) FROM {schema}.stage_grants
WHERE sync_id = %(sync_id)s GROUP BY grant_id HAVING count(*) > 1 LIMIT 5;

-- Known shortcoming: a provisioning change made after this sync read Salesforce but before it publishes
-- is overwritten by the older state until the next sync. The lock only keeps the two from interleaving;
-- it goes away when publish replays provisioning_requests finished after the sync's start.
-- name: replace_resources
DELETE FROM {schema}.resources WHERE org_id = %(org_id)s;
INSERT INTO {schema}.resources SELECT * FROM {schema}.stage_resources WHERE sync_id = %(sync_id)s;

-- name: replace_entitlements
DELETE FROM {schema}.entitlements WHERE org_id = %(org_id)s;
INSERT INTO {schema}.entitlements SELECT * FROM {schema}.stage_entitlements WHERE sync_id = %(sync_id)s;

-- name: replace_grants
DELETE FROM {schema}.grants WHERE org_id = %(org_id)s;
INSERT INTO {schema}.grants SELECT * FROM {schema}.stage_grants WHERE sync_id = %(sync_id)s;

-- name: replace_entitlement_edges
DELETE FROM {schema}.entitlement_edges WHERE org_id = %(org_id)s;
INSERT INTO {schema}.entitlement_edges (org_id, src_entitlement_id, dst_entitlement_id, principal_filter, sync_id)
SELECT DISTINCT %(org_id)s, src_entitlement_id, dst_entitlement_id, principal_filter, %(sync_id)s
FROM {schema}.stage_entitlement_edges e
WHERE e.sync_id = %(sync_id)s
  AND EXISTS (SELECT 1 FROM {schema}.stage_entitlements x
              WHERE x.sync_id = e.sync_id AND x.entitlement_id = e.dst_entitlement_id)
  AND EXISTS (SELECT 1 FROM {schema}.stage_entitlements x
              WHERE x.sync_id = e.sync_id AND x.entitlement_id = e.src_entitlement_id);

-- name: history_still_held
UPDATE {schema}.grant_history h
SET last_seen_at = (SELECT seen_at FROM publishing), last_seen_sync_id = %(sync_id)s
FROM {schema}.grants g
WHERE h.org_id = %(org_id)s AND h.revoked_at IS NULL
  AND g.org_id = h.org_id AND g.grant_id = h.grant_id;

-- name: history_revoked
UPDATE {schema}.grant_history h
SET revoked_at = (SELECT seen_at FROM publishing), revoked_sync_id = %(sync_id)s,
    end_reason = CASE WHEN (SELECT scope_changed FROM publishing) THEN 'scope_changed' ELSE 'revoked' END
WHERE h.org_id = %(org_id)s AND h.revoked_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM {schema}.grants g WHERE g.org_id = h.org_id AND g.grant_id = h.grant_id);

-- name: history_new
INSERT INTO {schema}.grant_history
    (org_id, grant_id, entitlement_id, principal_type, principal_id, first_seen_at, last_seen_at,
     revoked_at, first_seen_sync_id, last_seen_sync_id, revoked_sync_id)
SELECT g.org_id, g.grant_id, g.entitlement_id, g.principal_type, g.principal_id, (SELECT seen_at FROM publishing), (SELECT seen_at FROM publishing),
       NULL, %(sync_id)s, %(sync_id)s, NULL
FROM {schema}.grants g
WHERE g.org_id = %(org_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.grant_history h
                  WHERE h.org_id = g.org_id AND h.grant_id = g.grant_id AND h.revoked_at IS NULL)
ON CONFLICT (org_id, grant_id, first_seen_sync_id) DO NOTHING;

-- name: published_counts
SELECT 'resources.' || resource_type, count(*)::int FROM {schema}.resources
WHERE org_id = %(org_id)s GROUP BY resource_type
UNION ALL
SELECT CASE WHEN is_direct THEN 'grants.direct' ELSE 'grants.derived' END, count(*)::int FROM {schema}.grants
WHERE org_id = %(org_id)s GROUP BY is_direct
UNION ALL
SELECT 'entitlements', count(*)::int FROM {schema}.entitlements WHERE org_id = %(org_id)s;

-- name: upsert_org
INSERT INTO {schema}.orgs (org_id, name, config_name, instance_url, organization_type, is_sandbox,
                           salesforce_conn_id, last_sync_id, last_synced_at)
VALUES (%(org_id)s, %(salesforce_org_name)s, %(config_name)s, %(instance_url)s, %(organization_type)s,
        %(is_sandbox)s, %(salesforce_conn_id)s, %(sync_id)s, (SELECT seen_at FROM publishing))
ON CONFLICT (org_id) DO UPDATE SET
    name = EXCLUDED.name, config_name = EXCLUDED.config_name, instance_url = EXCLUDED.instance_url,
    organization_type = EXCLUDED.organization_type, is_sandbox = EXCLUDED.is_sandbox,
    salesforce_conn_id = EXCLUDED.salesforce_conn_id, last_sync_id = EXCLUDED.last_sync_id,
    last_synced_at = EXCLUDED.last_synced_at;

-- name: mark_succeeded
UPDATE {schema}.sync_runs
SET status = 'succeeded', finished_at = now(), row_counts = row_counts || %(row_counts)s::jsonb,
    error_code = NULL, error_message = NULL
WHERE sync_id = %(sync_id)s;

-- name: clear_staging
DELETE FROM {schema}.stage_records WHERE sync_id = %(sync_id)s;
DELETE FROM {schema}.stage_resources WHERE sync_id = %(sync_id)s;
DELETE FROM {schema}.stage_entitlements WHERE sync_id = %(sync_id)s;
DELETE FROM {schema}.stage_grants WHERE sync_id = %(sync_id)s;
DELETE FROM {schema}.stage_entitlement_edges WHERE sync_id = %(sync_id)s;
