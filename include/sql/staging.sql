-- Staging tables: what tasks of one sync hand to each other, keyed by sync_id. Unlogged because
-- they are rebuilt from Salesforce on a retry; a sync deletes its own rows when it ends.

CREATE UNLOGGED TABLE IF NOT EXISTS {schema}.stage_records (
    sync_id     text NOT NULL,
    sobject     text NOT NULL,
    record_id   text NOT NULL,
    record      jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS stage_records_sync ON {schema}.stage_records (sync_id, sobject);

CREATE UNLOGGED TABLE IF NOT EXISTS {schema}.stage_resources (LIKE {schema}.resources);
CREATE INDEX IF NOT EXISTS stage_resources_sync ON {schema}.stage_resources (sync_id, resource_type, resource_id);

CREATE UNLOGGED TABLE IF NOT EXISTS {schema}.stage_entitlements (LIKE {schema}.entitlements);
CREATE INDEX IF NOT EXISTS stage_entitlements_sync ON {schema}.stage_entitlements (sync_id, entitlement_id);

CREATE UNLOGGED TABLE IF NOT EXISTS {schema}.stage_grants (LIKE {schema}.grants);
CREATE INDEX IF NOT EXISTS stage_grants_sync ON {schema}.stage_grants (sync_id, principal_type, principal_id);

-- Holding entitlement `src` implies holding `dst`; `principal_filter` limits which users it applies
-- to: 'standard' (UserType Standard), 'internal' (not a portal user) or null (every user).
CREATE UNLOGGED TABLE IF NOT EXISTS {schema}.stage_entitlement_edges (
    sync_id             text NOT NULL,
    src_entitlement_id  text NOT NULL,
    dst_entitlement_id  text NOT NULL,
    principal_filter    text
);
CREATE INDEX IF NOT EXISTS stage_edges_sync ON {schema}.stage_entitlement_edges (sync_id, src_entitlement_id);
