-- The coordinator's schema (DESIGN.md §5). PostgreSQL is the single source of truth; Hangfire keeps its
-- own tables in the "hangfire" schema of the same database. Never edit an applied migration: add a new
-- numbered file instead (DbUp records applied scripts in public.schemaversions).

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username        text NOT NULL CHECK (username ~ '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$'),
    email           text NOT NULL,
    name            text NOT NULL DEFAULT '',
    hashed_password bytea,
    is_admin        boolean NOT NULL DEFAULT false,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted         boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX users_username_unique ON users (lower(username)) WHERE NOT deleted;
CREATE UNIQUE INDEX users_email_unique ON users (lower(email)) WHERE NOT deleted;

-- Keys are "<id>-<secret>"; only the SHA-256 of the secret is stored.
CREATE TABLE api_keys (
    id            text PRIMARY KEY,
    hashed_secret bytea NOT NULL CHECK (octet_length(hashed_secret) = 32),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    scope         text NOT NULL DEFAULT 'all',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);

-- Content-addressed blobs: template archives, states, module files. The key is the SHA-256 (hex) of data.
CREATE TABLE files (
    hash       text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    mimetype   text NOT NULL DEFAULT 'application/x-tar',
    size       bigint NOT NULL CHECK (size >= 0),
    data       bytea NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (octet_length(data) = size)
);

CREATE TABLE provisioner_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL,
    hashed_secret bytea NOT NULL CHECK (octet_length(hashed_secret) = 32),
    tags          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(tags) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX provisioner_keys_name_unique ON provisioner_keys (lower(name));

CREATE TABLE provisioner_daemons (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    -- NULL under pre-shared-key authentication.
    key_id       uuid REFERENCES provisioner_keys (id) ON DELETE CASCADE,
    tags         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(tags) = 'object'),
    provisioners text[] NOT NULL DEFAULT '{}',
    version      text NOT NULL DEFAULT '',
    slots        integer NOT NULL DEFAULT 1 CHECK (slots > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX provisioner_daemons_name_key_unique
    ON provisioner_daemons (name, coalesce(key_id, '00000000-0000-0000-0000-000000000000'::uuid));

-- One Hangfire queue per (provisioner type, canonical tag set). Queue names are a short hash of the
-- canonical form, because Hangfire accepts only [a-z0-9_-] in queue names.
CREATE TABLE provisioner_queues (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]+$'),
    provisioner text NOT NULL,
    tags        jsonb NOT NULL CHECK (jsonb_typeof(tags) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provisioner, tags)
);

-- The job ledger. A job's status is derived from its timestamps and error, in the generated "status"
-- column only (C#: ProvisionerJobStatus), so no code path can store a status that disagrees with them.
CREATE TABLE provisioner_jobs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type            text NOT NULL CHECK (type IN ('template_version_import', 'workspace_build', 'template_version_dry_run')),
    provisioner     text NOT NULL,
    tags            jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(tags) = 'object'),
    queue           text NOT NULL REFERENCES provisioner_queues (name),
    input           jsonb NOT NULL DEFAULT '{}'::jsonb,
    file_hash       text REFERENCES files (hash),
    initiator_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    -- The daemon that holds (or held) the job; no foreign key, so that cleaning up stale daemons never
    -- rewrites the history of the jobs they ran.
    worker_id       uuid,
    hangfire_job_id text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    canceled_at     timestamptz,
    completed_at    timestamptz,
    error           text,
    error_code      text,
    logs_length     bigint NOT NULL DEFAULT 0,
    logs_overflowed boolean NOT NULL DEFAULT false,
    status          text NOT NULL GENERATED ALWAYS AS (
        CASE
            WHEN completed_at IS NOT NULL THEN
                CASE
                    WHEN canceled_at IS NOT NULL THEN 'canceled'
                    WHEN error IS NOT NULL AND error <> '' THEN 'failed'
                    ELSE 'succeeded'
                END
            WHEN canceled_at IS NOT NULL THEN 'canceling'
            WHEN started_at IS NULL THEN 'pending'
            ELSE 'running'
        END) STORED,
    CHECK (started_at IS NULL OR worker_id IS NOT NULL)
);
CREATE INDEX provisioner_jobs_pending ON provisioner_jobs (queue, created_at) WHERE started_at IS NULL AND completed_at IS NULL AND canceled_at IS NULL;
CREATE INDEX provisioner_jobs_running ON provisioner_jobs (updated_at) WHERE started_at IS NOT NULL AND completed_at IS NULL;
CREATE INDEX provisioner_jobs_worker ON provisioner_jobs (worker_id) WHERE completed_at IS NULL;

-- Log lines; the bigserial id is the cursor followers resume from.
CREATE TABLE provisioner_job_logs (
    id         bigserial PRIMARY KEY,
    job_id     uuid NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    source     text NOT NULL CHECK (source IN ('provisioner_daemon', 'provisioner')),
    level      text NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error')),
    stage      text NOT NULL DEFAULT '',
    output     text NOT NULL
);
CREATE INDEX provisioner_job_logs_job_id ON provisioner_job_logs (job_id, id);

CREATE TABLE provisioner_job_timings (
    id         bigserial PRIMARY KEY,
    job_id     uuid NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz NOT NULL,
    stage      text NOT NULL,
    source     text NOT NULL,
    action     text NOT NULL,
    resource   text NOT NULL,
    state      text NOT NULL DEFAULT 'completed'
);
CREATE INDEX provisioner_job_timings_job_id ON provisioner_job_timings (job_id);

CREATE TABLE templates (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$'),
    display_name      text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    icon              text NOT NULL DEFAULT '',
    provisioner       text NOT NULL DEFAULT 'terraform',
    active_version_id uuid,
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted           boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX templates_name_unique ON templates (lower(name)) WHERE NOT deleted;

CREATE TABLE template_versions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL while a version is pushed before its template exists (the first push creates both).
    template_id uuid REFERENCES templates (id) ON DELETE CASCADE,
    name        text NOT NULL,
    message     text NOT NULL DEFAULT '',
    readme      text NOT NULL DEFAULT '',
    job_id      uuid NOT NULL UNIQUE REFERENCES provisioner_jobs (id),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX template_versions_name_unique ON template_versions (template_id, lower(name));

ALTER TABLE templates
    ADD CONSTRAINT templates_active_version_fk FOREIGN KEY (active_version_id) REFERENCES template_versions (id);

CREATE TABLE template_version_variables (
    template_version_id uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
    name                text NOT NULL,
    description         text NOT NULL DEFAULT '',
    type                text NOT NULL CHECK (type IN ('string', 'number', 'bool')),
    value               text NOT NULL DEFAULT '',
    default_value       text NOT NULL DEFAULT '',
    required            boolean NOT NULL DEFAULT false,
    sensitive           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (template_version_id, name)
);

CREATE TABLE template_version_parameters (
    template_version_id  uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
    name                 text NOT NULL,
    display_name         text NOT NULL DEFAULT '',
    description          text NOT NULL DEFAULT '',
    type                 text NOT NULL,
    form_type            text NOT NULL DEFAULT '',
    mutable              boolean NOT NULL DEFAULT false,
    default_value        text NOT NULL DEFAULT '',
    icon                 text NOT NULL DEFAULT '',
    options              jsonb NOT NULL DEFAULT '[]'::jsonb,
    validation_regex     text NOT NULL DEFAULT '',
    validation_min       integer,
    validation_max       integer,
    validation_error     text NOT NULL DEFAULT '',
    validation_monotonic text NOT NULL DEFAULT '',
    required             boolean NOT NULL DEFAULT false,
    ephemeral            boolean NOT NULL DEFAULT false,
    display_order        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (template_version_id, name)
);

CREATE TABLE workspaces (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES users (id),
    template_id uuid NOT NULL REFERENCES templates (id),
    name        text NOT NULL CHECK (name ~ '^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted     boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX workspaces_owner_name_unique ON workspaces (owner_id, lower(name)) WHERE NOT deleted;

CREATE TABLE workspace_builds (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id        uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    template_version_id uuid NOT NULL REFERENCES template_versions (id),
    build_number        integer NOT NULL CHECK (build_number > 0),
    transition          text NOT NULL CHECK (transition IN ('start', 'stop', 'delete')),
    initiator_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    job_id              uuid NOT NULL UNIQUE REFERENCES provisioner_jobs (id),
    -- The Terraform state this build left; the previous build's when this one wrote none.
    provisioner_state   bytea,
    reason              text NOT NULL DEFAULT 'initiator',
    -- True until the build's job reaches a terminal state (kept by the trigger below).
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, build_number)
);
-- Invariant 4: at most one active build per workspace; a second insert fails with a unique violation.
CREATE UNIQUE INDEX workspace_builds_one_active ON workspace_builds (workspace_id) WHERE active;

-- A build stops being active in the same statement that ends its job, whichever path ends it.
CREATE FUNCTION workspace_builds_deactivate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workspace_builds SET active = false, updated_at = now() WHERE job_id = NEW.id AND active;
    RETURN NEW;
END;
$$;
CREATE TRIGGER provisioner_jobs_completed
    AFTER UPDATE OF completed_at ON provisioner_jobs
    FOR EACH ROW WHEN (OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL)
    EXECUTE FUNCTION workspace_builds_deactivate();

CREATE TABLE workspace_build_parameters (
    workspace_build_id uuid NOT NULL REFERENCES workspace_builds (id) ON DELETE CASCADE,
    name               text NOT NULL,
    value              text NOT NULL,
    PRIMARY KEY (workspace_build_id, name)
);

-- Resources a job produced (a build's, or an import's per transition).
CREATE TABLE workspace_resources (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id        uuid NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    transition    text NOT NULL CHECK (transition IN ('start', 'stop', 'delete')),
    type          text NOT NULL,
    name          text NOT NULL,
    hide          boolean NOT NULL DEFAULT false,
    icon          text NOT NULL DEFAULT '',
    instance_type text NOT NULL DEFAULT '',
    daily_cost    integer NOT NULL DEFAULT 0,
    module_path   text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_resources_job_id ON workspace_resources (job_id);

CREATE TABLE workspace_resource_metadata (
    id                    bigserial PRIMARY KEY,
    workspace_resource_id uuid NOT NULL REFERENCES workspace_resources (id) ON DELETE CASCADE,
    key                   text NOT NULL,
    value                 text,
    sensitive             boolean NOT NULL DEFAULT false,
    UNIQUE (workspace_resource_id, key)
);

CREATE TABLE workspace_agents (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    resource_id                uuid NOT NULL REFERENCES workspace_resources (id) ON DELETE CASCADE,
    name                       text NOT NULL,
    auth_token                 uuid NOT NULL DEFAULT gen_random_uuid(),
    auth_instance_id           text,
    architecture               text NOT NULL DEFAULT '',
    operating_system           text NOT NULL DEFAULT '',
    directory                  text NOT NULL DEFAULT '',
    environment_variables      jsonb NOT NULL DEFAULT '{}'::jsonb,
    connection_timeout_seconds integer NOT NULL DEFAULT 0,
    troubleshooting_url        text NOT NULL DEFAULT '',
    motd_file                  text NOT NULL DEFAULT '',
    display_apps               jsonb NOT NULL DEFAULT '{}'::jsonb,
    scripts                    jsonb NOT NULL DEFAULT '[]'::jsonb,
    metadata                   jsonb NOT NULL DEFAULT '[]'::jsonb,
    display_order              integer NOT NULL DEFAULT 0,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resource_id, name)
);

CREATE TABLE workspace_apps (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id               uuid NOT NULL REFERENCES workspace_agents (id) ON DELETE CASCADE,
    slug                   text NOT NULL,
    display_name           text NOT NULL DEFAULT '',
    icon                   text NOT NULL DEFAULT '',
    command                text,
    url                    text,
    external               boolean NOT NULL DEFAULT false,
    subdomain              boolean NOT NULL DEFAULT false,
    sharing_level          text NOT NULL DEFAULT 'owner' CHECK (sharing_level IN ('owner', 'authenticated', 'public')),
    healthcheck_url        text NOT NULL DEFAULT '',
    healthcheck_interval   integer NOT NULL DEFAULT 0,
    healthcheck_threshold  integer NOT NULL DEFAULT 0,
    open_in                text NOT NULL DEFAULT 'slim-window',
    hidden                 boolean NOT NULL DEFAULT false,
    display_order          integer NOT NULL DEFAULT 0,
    display_group          text NOT NULL DEFAULT '',
    created_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agent_id, slug)
);
