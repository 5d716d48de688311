-- Derived grants of one sync, computed in the warehouse so no worker holds the org's grants in memory.
-- Statements run in order, each under its "-- name:" line; %(sync_id)s is the sync being built.

-- name: drop_unsynced_principals
-- A filtered-out user appears nowhere: drop grants whose principal is not a resource of this sync.
DELETE FROM {schema}.stage_grants g
WHERE g.sync_id = %(sync_id)s
  AND NOT EXISTS (
      SELECT 1 FROM {schema}.stage_resources r
      WHERE r.sync_id = g.sync_id AND r.resource_type = g.principal_type AND r.resource_id = g.principal_id);

-- name: drop_unknown_entitlements
-- A grant of something that is not a resource here (another territory model, a record deleted
-- between two extract queries) would dangle.
DELETE FROM {schema}.stage_grants g
WHERE g.sync_id = %(sync_id)s
  AND NOT EXISTS (
      SELECT 1 FROM {schema}.stage_entitlements e
      WHERE e.sync_id = g.sync_id AND e.entitlement_id = g.entitlement_id);

-- name: sync_users
CREATE TEMP TABLE sync_users ON COMMIT DROP AS
SELECT resource_id AS user_id, user_type
FROM {schema}.stage_resources
WHERE sync_id = %(sync_id)s AND resource_type = 'user';
CREATE UNIQUE INDEX ON sync_users (user_id);

-- name: sync_edges
CREATE TEMP TABLE sync_edges ON COMMIT DROP AS
SELECT DISTINCT e.src_entitlement_id AS src, e.dst_entitlement_id AS dst, e.principal_filter
FROM {schema}.stage_entitlement_edges e
WHERE e.sync_id = %(sync_id)s
  AND EXISTS (SELECT 1 FROM {schema}.stage_entitlements x
              WHERE x.sync_id = e.sync_id AND x.entitlement_id = e.dst_entitlement_id);
CREATE INDEX ON sync_edges (src);

-- name: holdings
-- Every (user, entitlement) held directly or through edges, to a fixed point. UNION (not UNION ALL)
-- discards pairs already found, so cycles of nested groups end the recursion.
CREATE TEMP TABLE holdings ON COMMIT DROP AS
WITH RECURSIVE held(user_id, entitlement_id) AS (
    SELECT g.principal_id, g.entitlement_id
    FROM {schema}.stage_grants g
    WHERE g.sync_id = %(sync_id)s AND g.principal_type = 'user'
  UNION
    SELECT h.user_id, e.dst
    FROM held h
    JOIN sync_edges e ON e.src = h.entitlement_id
    JOIN sync_users u ON u.user_id = h.user_id
    WHERE e.principal_filter IS NULL
       OR (e.principal_filter = 'standard' AND u.user_type = 'Standard')
       OR (e.principal_filter = 'internal'
           AND u.user_type NOT IN ('PowerPartner', 'PowerCustomerSuccess', 'CustomerSuccess', 'CspLitePortal'))
)
SELECT user_id, entitlement_id FROM held;
CREATE INDEX ON holdings (entitlement_id);

-- name: derived
-- For each held entitlement reachable in one step, the entitlements that lead to it.
CREATE TEMP TABLE derived ON COMMIT DROP AS
SELECT h.user_id, e.dst AS entitlement_id, array_agg(DISTINCT e.src ORDER BY e.src) AS sources
FROM holdings h
JOIN sync_edges e ON e.src = h.entitlement_id
JOIN sync_users u ON u.user_id = h.user_id
WHERE e.principal_filter IS NULL
   OR (e.principal_filter = 'standard' AND u.user_type = 'Standard')
   OR (e.principal_filter = 'internal'
       AND u.user_type NOT IN ('PowerPartner', 'PowerCustomerSuccess', 'CustomerSuccess', 'CspLitePortal'))
GROUP BY h.user_id, e.dst;

-- name: sources_of_direct_grants
-- A grant held directly and through a source stays direct and keeps its sources.
UPDATE {schema}.stage_grants g
SET sources = d.sources
FROM derived d
WHERE g.sync_id = %(sync_id)s AND g.principal_type = 'user'
  AND g.principal_id = d.user_id AND g.entitlement_id = d.entitlement_id;

-- name: insert_derived_grants
INSERT INTO {schema}.stage_grants
    (sync_id, org_id, grant_id, entitlement_id, resource_type, resource_id, principal_type, principal_id,
     is_direct, sources, source_record_id, expires_at)
SELECT %(sync_id)s, %(org_id)s, d.entitlement_id || ':user:' || d.user_id, d.entitlement_id,
       e.resource_type, e.resource_id, 'user', d.user_id, false, d.sources, NULL, NULL
FROM derived d
JOIN {schema}.stage_entitlements e ON e.sync_id = %(sync_id)s AND e.entitlement_id = d.entitlement_id
WHERE NOT EXISTS (
    SELECT 1 FROM {schema}.stage_grants g
    WHERE g.sync_id = %(sync_id)s AND g.principal_type = 'user'
      AND g.principal_id = d.user_id AND g.entitlement_id = d.entitlement_id);
