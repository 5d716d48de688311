-- Published tables of the Salesforce access warehouse. Idempotent: safe to run before every sync.
-- {schema} is replaced with the configured schema name (quoted identifier) by warehouse.py.

CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE IF NOT EXISTS {schema}.orgs (
    org_id              text PRIMARY KEY,
    name                text,               -- Organization.Name in Salesforce
    config_name         text NOT NULL,      -- the org's name in the orgs config (its DAG)
    instance_url        text,
    organization_type   text,
    is_sandbox          boolean,
    salesforce_conn_id  text,
    last_sync_id        text,
    last_synced_at      timestamptz
);

CREATE TABLE IF NOT EXISTS {schema}.sync_runs (
    sync_id         text PRIMARY KEY,
    org_id          text,
    config_name     text NOT NULL,
    dag_id          text,
    dag_run_id      text,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    status          text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    options         jsonb NOT NULL,
    row_counts      jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    api_calls       integer NOT NULL DEFAULT 0,
    coverage        jsonb NOT NULL DEFAULT '[]'::jsonb,
    error_code      text,
    error_message   text
);
CREATE INDEX IF NOT EXISTS sync_runs_org_started ON {schema}.sync_runs (org_id, started_at);

CREATE TABLE IF NOT EXISTS {schema}.resource_types (
    resource_type   text PRIMARY KEY,
    display_name    text NOT NULL,
    description     text NOT NULL
);

CREATE TABLE IF NOT EXISTS {schema}.resources (
    org_id                  text NOT NULL,
    resource_type           text NOT NULL,
    resource_id             text NOT NULL,
    display_name            text NOT NULL,
    description             text,
    parent_resource_type    text,
    parent_resource_id      text,
    attributes              jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    login                   text,
    email                   text,
    status                  text,
    account_type            text,
    user_type               text,
    last_login_at           timestamptz,
    profile_id              text,
    role_id                 text,
    sync_id                 text NOT NULL,
    PRIMARY KEY (org_id, resource_type, resource_id)
);

CREATE TABLE IF NOT EXISTS {schema}.entitlements (
    org_id          text NOT NULL,
    entitlement_id  text NOT NULL,
    resource_type   text NOT NULL,
    resource_id     text NOT NULL,
    slug            text NOT NULL,
    display_name    text NOT NULL,
    description     text,
    grantable_to    text[] NOT NULL,
    sync_id         text NOT NULL,
    PRIMARY KEY (org_id, entitlement_id)
);

CREATE TABLE IF NOT EXISTS {schema}.grants (
    org_id              text NOT NULL,
    grant_id            text NOT NULL,
    entitlement_id      text NOT NULL,
    resource_type       text NOT NULL,
    resource_id         text NOT NULL,
    principal_type      text NOT NULL,
    principal_id        text NOT NULL,
    is_direct           boolean NOT NULL,
    sources             text[] NOT NULL DEFAULT '{{}}',
    source_record_id    text,
    expires_at          timestamptz,
    sync_id             text NOT NULL,
    PRIMARY KEY (org_id, grant_id)
);
CREATE INDEX IF NOT EXISTS grants_principal ON {schema}.grants (org_id, principal_type, principal_id);
CREATE INDEX IF NOT EXISTS grants_entitlement ON {schema}.grants (org_id, entitlement_id);

-- How inherited access flows: a holder of `src_entitlement_id` also holds `dst_entitlement_id`
-- (nested groups, role and territory groups, permission set group components, connected apps).
-- `principal_filter` limits it to 'standard' users (UserType Standard), 'internal' users (not portal
-- users) or, when null, applies to every user.
CREATE TABLE IF NOT EXISTS {schema}.entitlement_edges (
    org_id              text NOT NULL,
    src_entitlement_id  text NOT NULL,
    dst_entitlement_id  text NOT NULL,
    principal_filter    text,
    sync_id             text NOT NULL
);
CREATE INDEX IF NOT EXISTS entitlement_edges_src ON {schema}.entitlement_edges (org_id, src_entitlement_id);

-- One row per period a grant was held: a grant revoked and later given again opens a new row.
-- `end_reason` says why a period ended: 'revoked' (it went away in Salesforce, or provisioning revoked
-- it) or 'scope_changed' (it went away in a sync whose options read a different part of the org than the
-- sync before, so it may only have left what the pipeline reads).
CREATE TABLE IF NOT EXISTS {schema}.grant_history (
    org_id              text NOT NULL,
    grant_id            text NOT NULL,
    entitlement_id      text NOT NULL,
    principal_type      text NOT NULL,
    principal_id        text NOT NULL,
    first_seen_at       timestamptz NOT NULL,
    last_seen_at        timestamptz NOT NULL,
    revoked_at          timestamptz,
    first_seen_sync_id  text NOT NULL,
    last_seen_sync_id   text NOT NULL,
    revoked_sync_id     text,
    end_reason          text CHECK (end_reason IN ('revoked', 'scope_changed')),
    PRIMARY KEY (org_id, grant_id, first_seen_sync_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS grant_history_current
    ON {schema}.grant_history (org_id, grant_id) WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS {schema}.provisioning_requests (
    request_id          text PRIMARY KEY,
    org_id              text,
    salesforce_conn_id  text,
    dag_id              text,
    dag_run_id          text,
    requested_at        timestamptz NOT NULL,
    finished_at         timestamptz,
    action              text,
    parameters          jsonb NOT NULL,
    status              text NOT NULL
        CHECK (status IN ('running', 'succeeded', 'no_change', 'dry_run', 'rejected', 'failed')),
    outcome             text,
    salesforce_record_id text,
    changes             jsonb,
    error_code          text,
    error_message       text
);

INSERT INTO {schema}.resource_types (resource_type, display_name, description) VALUES
    ('user', 'User', 'A Salesforce user account (User)'),
    ('group', 'Group', 'A Salesforce group of any type: public group, queue, role, territory or organization group'),
    ('role', 'Role', 'A role of the role hierarchy (UserRole)'),
    ('permission', 'Permission Set', 'An ordinary permission set (PermissionSet not owned by a profile or group)'),
    ('permission_set_group', 'Permission Set Group', 'A permission set group (PermissionSetGroup)'),
    ('profile', 'Profile', 'A user profile (Profile)'),
    ('territory', 'Territory', 'A territory of the active Enterprise Territory Management 2.0 model (Territory2)'),
    ('connected_application', 'Connected Application', 'A connected app (ConnectedApplication)')
ON CONFLICT (resource_type) DO UPDATE
    SET display_name = EXCLUDED.display_name, description = EXCLUDED.description;

-- Provisioning request details (added by the provisioning DAG; idempotent).
ALTER TABLE {schema}.provisioning_requests ADD COLUMN IF NOT EXISTS requested_by text;
ALTER TABLE {schema}.provisioning_requests ADD COLUMN IF NOT EXISTS user_id text;
ALTER TABLE {schema}.provisioning_requests ADD COLUMN IF NOT EXISTS entitlement_id text;
ALTER TABLE {schema}.provisioning_requests ADD COLUMN IF NOT EXISTS dry_run boolean;
ALTER TABLE {schema}.provisioning_requests ADD COLUMN IF NOT EXISTS warehouse_refreshed_at timestamptz;
ALTER TABLE {schema}.provisioning_requests ADD COLUMN IF NOT EXISTS warehouse_error text;

-- Added after the first release: keep existing warehouses in step.
ALTER TABLE {schema}.grant_history ADD COLUMN IF NOT EXISTS end_reason text
    CHECK (end_reason IN ('revoked', 'scope_changed'));
