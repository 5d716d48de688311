-- Views for BI dashboards and auditors, over the published tables only.

CREATE OR REPLACE VIEW {schema}.effective_user_access AS
SELECT g.org_id,
       o.name AS org_name,
       g.principal_id AS user_id,
       u.display_name AS user_name,
       u.login AS username,
       u.email,
       u.status AS user_status,
       u.account_type,
       g.entitlement_id,
       e.display_name AS entitlement_name,
       g.resource_type,
       g.resource_id,
       r.display_name AS resource_name,
       g.is_direct,
       CASE WHEN g.is_direct AND cardinality(g.sources) > 0 THEN 'direct and inherited'
            WHEN g.is_direct THEN 'direct'
            ELSE 'inherited' END AS held_how,
       g.sources,
       g.expires_at
FROM {schema}.grants g
JOIN {schema}.resources u
  ON u.org_id = g.org_id AND u.resource_type = 'user' AND u.resource_id = g.principal_id
JOIN {schema}.entitlements e ON e.org_id = g.org_id AND e.entitlement_id = g.entitlement_id
JOIN {schema}.resources r
  ON r.org_id = g.org_id AND r.resource_type = g.resource_type AND r.resource_id = g.resource_id
LEFT JOIN {schema}.orgs o ON o.org_id = g.org_id
WHERE g.principal_type = 'user';
COMMENT ON VIEW {schema}.effective_user_access IS
    'One row per user and entitlement the user holds, directly or inherited (nested groups, role and '
    'territory groups, permission set groups, connected apps), with names and how it is held.';

CREATE OR REPLACE VIEW {schema}.privileged_access AS
SELECT a.*,
       p.privileges
FROM {schema}.effective_user_access a
JOIN (
    SELECT org_id, resource_type, resource_id,
           array_remove(ARRAY[
               CASE WHEN (attributes ->> 'PermissionsModifyAllData')::boolean THEN 'Modify All Data' END,
               CASE WHEN (attributes ->> 'PermissionsViewAllData')::boolean THEN 'View All Data' END,
               CASE WHEN (attributes ->> 'PermissionsManageUsers')::boolean THEN 'Manage Users' END,
               CASE WHEN (attributes ->> 'PermissionsCustomizeApplication')::boolean THEN 'Customize Application' END,
               CASE WHEN (attributes ->> 'PermissionsAuthorApex')::boolean THEN 'Author Apex' END,
               CASE WHEN resource_type = 'profile' AND display_name = 'System Administrator'
                    THEN 'System Administrator profile' END
           ], NULL) AS privileges
    FROM {schema}.resources
    WHERE resource_type IN ('permission', 'profile')
) p ON p.org_id = a.org_id AND p.resource_type = a.resource_type AND p.resource_id = a.resource_id
WHERE cardinality(p.privileges) > 0;
COMMENT ON VIEW {schema}.privileged_access IS
    'Users holding a permission set or profile that grants a powerful system permission '
    '(Modify All Data, View All Data, Manage Users, Customize Application, Author Apex) or the '
    'System Administrator profile.';

CREATE OR REPLACE VIEW {schema}.disabled_users_with_access AS
SELECT a.org_id, a.user_id, a.user_name, a.username, a.user_status,
       (u.attributes ->> 'IsActive')::boolean AS is_active,
       count(*) AS grants_held,
       array_agg(a.entitlement_id ORDER BY a.entitlement_id) AS entitlement_ids
FROM {schema}.effective_user_access a
JOIN {schema}.resources u ON u.org_id = a.org_id AND u.resource_type = 'user' AND u.resource_id = a.user_id
WHERE a.user_status <> 'enabled'
GROUP BY a.org_id, a.user_id, a.user_name, a.username, a.user_status, u.attributes ->> 'IsActive';
COMMENT ON VIEW {schema}.disabled_users_with_access IS
    'Inactive or frozen users who still hold access, with the entitlements they hold.';

CREATE OR REPLACE VIEW {schema}.access_changes AS
SELECT h.org_id, h.grant_id, h.entitlement_id, h.principal_type, h.principal_id,
       'granted' AS change, h.first_seen_at AS changed_at, h.first_seen_sync_id AS sync_id
FROM {schema}.grant_history h
UNION ALL
SELECT h.org_id, h.grant_id, h.entitlement_id, h.principal_type, h.principal_id,
       CASE WHEN h.end_reason = 'scope_changed' THEN 'left_scope' ELSE 'revoked' END,
       h.revoked_at, h.revoked_sync_id
FROM {schema}.grant_history h
WHERE h.revoked_at IS NOT NULL;
COMMENT ON VIEW {schema}.access_changes IS
    'Access changes over time: one row when a grant first appears (granted) and one when it disappears: '
    'revoked, or left_scope when the sync that no longer saw it read a different part of the org (other '
    'sync options) than the sync before.';
