-- Bring one user's published rows up to date right after a provisioning change, without a full sync.
-- The caller has staged, under %(sync_id)s (the request's marker), the user's resource row and role and
-- profile grants (built by the sync's own normalizer) and the user's Salesforce junction records in
-- stage_records. Statements run in order in one transaction; %(user_id)s is the user, %(org_id)s the org.

-- name: lock_org
-- Serialises with a sync publishing the same org, which takes the same lock.
SELECT pg_advisory_xact_lock(hashtext('salesforce_access:' || %(org_id)s));

-- name: stage_group_members
INSERT INTO {schema}.stage_grants
    (sync_id, org_id, grant_id, entitlement_id, resource_type, resource_id, principal_type, principal_id,
     is_direct, sources, source_record_id, expires_at)
SELECT %(sync_id)s, %(org_id)s, 'group:' || (r.record ->> 'GroupId') || ':member:user:' || %(user_id)s,
       'group:' || (r.record ->> 'GroupId') || ':member', 'group', r.record ->> 'GroupId', 'user', %(user_id)s,
       true, '{{}}', r.record_id, NULL
FROM {schema}.stage_records r
WHERE r.sync_id = %(sync_id)s AND r.sobject = 'GroupMember';

-- name: stage_permission_set_assignments
-- A permission set group assignment is the group's `member`; any other is the permission set's `assigned`.
INSERT INTO {schema}.stage_grants
    (sync_id, org_id, grant_id, entitlement_id, resource_type, resource_id, principal_type, principal_id,
     is_direct, sources, source_record_id, expires_at)
SELECT %(sync_id)s, %(org_id)s, a.entitlement_id || ':user:' || %(user_id)s, a.entitlement_id, a.resource_type,
       a.resource_id, 'user', %(user_id)s, true, '{{}}', a.record_id, a.expires_at
FROM (
    SELECT r.record_id,
           CASE WHEN r.record ->> 'PermissionSetGroupId' IS NULL
                THEN 'permission:' || (r.record ->> 'PermissionSetId') || ':assigned'
                ELSE 'permission_set_group:' || (r.record ->> 'PermissionSetGroupId') || ':member' END
               AS entitlement_id,
           CASE WHEN r.record ->> 'PermissionSetGroupId' IS NULL THEN 'permission'
                ELSE 'permission_set_group' END AS resource_type,
           coalesce(r.record ->> 'PermissionSetGroupId', r.record ->> 'PermissionSetId') AS resource_id,
           CASE WHEN r.record ->> 'PermissionSetGroupId' IS NULL
                THEN (r.record ->> 'ExpirationDate')::timestamptz END AS expires_at
    FROM {schema}.stage_records r
    WHERE r.sync_id = %(sync_id)s AND r.sobject = 'PermissionSetAssignment'
) a;

-- name: stage_territory_associations
-- An association gives the territory's `member`, and `role:<value>` when it carries a role.
INSERT INTO {schema}.stage_grants
    (sync_id, org_id, grant_id, entitlement_id, resource_type, resource_id, principal_type, principal_id,
     is_direct, sources, source_record_id, expires_at)
SELECT %(sync_id)s, %(org_id)s, t.entitlement_id || ':user:' || %(user_id)s, t.entitlement_id, 'territory',
       t.territory_id, 'user', %(user_id)s, true, '{{}}', t.record_id, NULL
FROM (
    SELECT r.record_id, r.record ->> 'Territory2Id' AS territory_id,
           'territory:' || (r.record ->> 'Territory2Id') || ':member' AS entitlement_id
    FROM {schema}.stage_records r
    WHERE r.sync_id = %(sync_id)s AND r.sobject = 'UserTerritory2Association'
  UNION ALL
    SELECT r.record_id, r.record ->> 'Territory2Id',
           'territory:' || (r.record ->> 'Territory2Id') || ':role:' || (r.record ->> 'RoleInTerritory2')
    FROM {schema}.stage_records r
    WHERE r.sync_id = %(sync_id)s AND r.sobject = 'UserTerritory2Association'
      AND coalesce(r.record ->> 'RoleInTerritory2', '') <> ''
) t;

-- name: drop_unsynced_user
-- A user the org's options leave out (inactive, non-standard) appears nowhere, as in a sync.
DELETE FROM {schema}.stage_grants g
WHERE g.sync_id = %(sync_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.stage_resources r
                  WHERE r.sync_id = g.sync_id AND r.resource_type = 'user' AND r.resource_id = %(user_id)s);

-- name: drop_unknown_entitlements
-- Only entitlements the last sync published count (this also leaves out profile-owned permission sets
-- and territories of other models, as a sync does).
DELETE FROM {schema}.stage_grants g
WHERE g.sync_id = %(sync_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.entitlements e
                  WHERE e.org_id = %(org_id)s AND e.entitlement_id = g.entitlement_id);

-- name: holdings
-- The user's entitlements, direct and derived through the published edges, to a fixed point; UNION
-- drops pairs already found, so cycles of nested groups end the recursion.
CREATE TEMP TABLE refresh_holdings ON COMMIT DROP AS
WITH RECURSIVE
user_row AS (
    SELECT user_type FROM {schema}.stage_resources
    WHERE sync_id = %(sync_id)s AND resource_type = 'user' AND resource_id = %(user_id)s
),
edges AS (
    SELECT DISTINCT e.src_entitlement_id AS src, e.dst_entitlement_id AS dst
    FROM {schema}.entitlement_edges e, user_row u
    WHERE e.org_id = %(org_id)s
      AND (e.principal_filter IS NULL
           OR (e.principal_filter = 'standard' AND u.user_type = 'Standard')
           OR (e.principal_filter = 'internal'
               AND u.user_type NOT IN ('PowerPartner', 'PowerCustomerSuccess', 'CustomerSuccess', 'CspLitePortal')))
),
held(entitlement_id) AS (
    SELECT g.entitlement_id FROM {schema}.stage_grants g WHERE g.sync_id = %(sync_id)s
  UNION
    SELECT e.dst FROM held h JOIN edges e ON e.src = h.entitlement_id
)
SELECT h.entitlement_id, e.dst, e.src
FROM held h
JOIN edges e ON e.src = h.entitlement_id;

-- name: derived
CREATE TEMP TABLE refresh_derived ON COMMIT DROP AS
SELECT dst AS entitlement_id, array_agg(DISTINCT src ORDER BY src) AS sources
FROM refresh_holdings
GROUP BY dst;

-- name: sources_of_direct_grants
-- A grant held directly and through a source stays direct and keeps its sources.
UPDATE {schema}.stage_grants g
SET sources = d.sources
FROM refresh_derived d
WHERE g.sync_id = %(sync_id)s AND g.entitlement_id = d.entitlement_id;

-- name: insert_derived_grants
INSERT INTO {schema}.stage_grants
    (sync_id, org_id, grant_id, entitlement_id, resource_type, resource_id, principal_type, principal_id,
     is_direct, sources, source_record_id, expires_at)
SELECT %(sync_id)s, %(org_id)s, d.entitlement_id || ':user:' || %(user_id)s, d.entitlement_id,
       e.resource_type, e.resource_id, 'user', %(user_id)s, false, d.sources, NULL, NULL
FROM refresh_derived d
JOIN {schema}.entitlements e ON e.org_id = %(org_id)s AND e.entitlement_id = d.entitlement_id
WHERE NOT EXISTS (SELECT 1 FROM {schema}.stage_grants g
                  WHERE g.sync_id = %(sync_id)s AND g.entitlement_id = d.entitlement_id);

-- name: history_revoked
UPDATE {schema}.grant_history h
SET revoked_at = now(), revoked_sync_id = %(sync_id)s, end_reason = 'revoked'
WHERE h.org_id = %(org_id)s AND h.principal_type = 'user' AND h.principal_id = %(user_id)s
  AND h.revoked_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM {schema}.stage_grants g
                  WHERE g.sync_id = %(sync_id)s AND g.grant_id = h.grant_id);

-- name: history_new
INSERT INTO {schema}.grant_history
    (org_id, grant_id, entitlement_id, principal_type, principal_id, first_seen_at, last_seen_at,
     revoked_at, first_seen_sync_id, last_seen_sync_id, revoked_sync_id)
SELECT %(org_id)s, g.grant_id, g.entitlement_id, 'user', %(user_id)s, now(), now(), NULL, %(sync_id)s,
       %(sync_id)s, NULL
FROM {schema}.stage_grants g
WHERE g.sync_id = %(sync_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.grant_history h
                  WHERE h.org_id = %(org_id)s AND h.grant_id = g.grant_id AND h.revoked_at IS NULL)
ON CONFLICT (org_id, grant_id, first_seen_sync_id) DO NOTHING;

-- name: grants_removed
DELETE FROM {schema}.grants p
WHERE p.org_id = %(org_id)s AND p.principal_type = 'user' AND p.principal_id = %(user_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.stage_grants g
                  WHERE g.sync_id = %(sync_id)s AND g.grant_id = p.grant_id);

-- name: grants_changed
-- Rows whose content did not change keep the sync id that produced them.
UPDATE {schema}.grants p
SET is_direct = g.is_direct, sources = g.sources, source_record_id = g.source_record_id,
    expires_at = g.expires_at, sync_id = g.sync_id
FROM {schema}.stage_grants g
WHERE g.sync_id = %(sync_id)s AND p.org_id = %(org_id)s AND p.grant_id = g.grant_id
  AND (p.is_direct, p.sources, p.source_record_id, p.expires_at)
      IS DISTINCT FROM (g.is_direct, g.sources, g.source_record_id, g.expires_at);

-- name: grants_added
INSERT INTO {schema}.grants
SELECT g.* FROM {schema}.stage_grants g
WHERE g.sync_id = %(sync_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.grants p WHERE p.org_id = %(org_id)s AND p.grant_id = g.grant_id);

-- name: user_removed
DELETE FROM {schema}.resources p
WHERE p.org_id = %(org_id)s AND p.resource_type = 'user' AND p.resource_id = %(user_id)s
  AND NOT EXISTS (SELECT 1 FROM {schema}.stage_resources s
                  WHERE s.sync_id = %(sync_id)s AND s.resource_type = 'user' AND s.resource_id = %(user_id)s);

-- name: user_upserted
INSERT INTO {schema}.resources
SELECT s.* FROM {schema}.stage_resources s
WHERE s.sync_id = %(sync_id)s AND s.resource_type = 'user' AND s.resource_id = %(user_id)s
ON CONFLICT (org_id, resource_type, resource_id) DO UPDATE
SET display_name = EXCLUDED.display_name, description = EXCLUDED.description,
    attributes = EXCLUDED.attributes, login = EXCLUDED.login, email = EXCLUDED.email,
    status = EXCLUDED.status, account_type = EXCLUDED.account_type, user_type = EXCLUDED.user_type,
    last_login_at = EXCLUDED.last_login_at, profile_id = EXCLUDED.profile_id, role_id = EXCLUDED.role_id,
    sync_id = EXCLUDED.sync_id
WHERE (resources.display_name, resources.attributes, resources.login, resources.email, resources.status,
       resources.account_type, resources.user_type, resources.last_login_at, resources.profile_id,
       resources.role_id)
      IS DISTINCT FROM
      (EXCLUDED.display_name, EXCLUDED.attributes, EXCLUDED.login, EXCLUDED.email, EXCLUDED.status,
       EXCLUDED.account_type, EXCLUDED.user_type, EXCLUDED.last_login_at, EXCLUDED.profile_id,
       EXCLUDED.role_id);

-- name: clear_staging
DELETE FROM {schema}.stage_records WHERE sync_id = %(sync_id)s;
DELETE FROM {schema}.stage_resources WHERE sync_id = %(sync_id)s;
DELETE FROM {schema}.stage_grants WHERE sync_id = %(sync_id)s;
