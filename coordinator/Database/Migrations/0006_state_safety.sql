-- State safety and daemon identity (issue 9).

-- A build's state is the previous build's until a daemon reports one for this build (WorkspaceStates);
-- state_reported_at says that a daemon's report wrote it, so a repeated report is recognised and a report
-- that arrives after its job ended (reaped, released, revoked) is recorded instead of thrown away.
ALTER TABLE workspace_builds ADD COLUMN state_reported_at timestamptz;
UPDATE workspace_builds SET state_reported_at = updated_at WHERE NOT active AND provisioner_state IS NOT NULL;

-- A state reported for a build that is no longer its workspace's latest: it is never discarded, but kept
-- here for `provisioning state orphans` to list and restore, and the workspace shows a warning.
CREATE TABLE workspace_orphaned_states (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    workspace_build_id uuid NOT NULL REFERENCES workspace_builds (id) ON DELETE CASCADE,
    job_id             uuid NOT NULL UNIQUE REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    daemon_id          uuid,
    state              bytea NOT NULL,
    reason             text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    restored_at        timestamptz,
    restored_build_id  uuid REFERENCES workspace_builds (id) ON DELETE SET NULL,
    restored_by        uuid REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX workspace_orphaned_states_open ON workspace_orphaned_states (workspace_id) WHERE restored_at IS NULL;

-- Daemon sessions: Register issues a secret (only its SHA-256 is stored) that every later call presents,
-- so a daemon id alone proves nothing. A revoked key no longer deletes its daemons: they are marked
-- revoked (no new work, running jobs canceled) and may still deliver the states of the jobs they hold.
ALTER TABLE provisioner_daemons ADD COLUMN session_hash bytea CHECK (session_hash IS NULL OR octet_length(session_hash) = 32);
ALTER TABLE provisioner_daemons ADD COLUMN revoked_at timestamptz;
-- For a daemon admitted by the pre-shared key: the SHA-256 of that key, so that changing the coordinator's
-- key (--provisioner-psk) ends the sessions it admitted, as revoking a provisioner key does.
ALTER TABLE provisioner_daemons ADD COLUMN psk_fingerprint bytea CHECK (psk_fingerprint IS NULL OR octet_length(psk_fingerprint) = 32);
ALTER TABLE provisioner_daemons DROP CONSTRAINT provisioner_daemons_key_id_fkey;
ALTER TABLE provisioner_daemons ADD CONSTRAINT provisioner_daemons_key_id_fkey
    FOREIGN KEY (key_id) REFERENCES provisioner_keys (id) ON DELETE SET NULL;
DROP INDEX provisioner_daemons_name_key_unique;
CREATE UNIQUE INDEX provisioner_daemons_name_key_unique
    ON provisioner_daemons (name, coalesce(key_id, '00000000-0000-0000-0000-000000000000'::uuid)) WHERE revoked_at IS NULL;

-- The files a daemon uploaded for a job: a terminal report may name only these as its state.
CREATE TABLE provisioner_job_files (
    job_id     uuid NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    hash       text NOT NULL REFERENCES files (hash) ON DELETE CASCADE,
    daemon_id  uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, hash)
);

-- When coordinators were able to receive heartbeats: each replica extends its current interval while it
-- reaches the database, and starts a new one after a gap. The reaper counts a job's silence only over
-- these intervals, so an outage of the coordinators or of the database never makes a job look hung.
CREATE TABLE coordinator_liveness (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    replica      text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    CHECK (last_seen_at >= started_at)
);
CREATE INDEX coordinator_liveness_last_seen ON coordinator_liveness (last_seen_at);

-- When the holding daemon's terminal report ended the job. NULL for a job that ended any other way
-- (reaped, canceled while pending, released canceled, revoked and never heard of again): a report that
-- arrives for such a job is late, and its state is recorded or kept as an orphan (WorkspaceStates).
ALTER TABLE provisioner_jobs ADD COLUMN reported_at timestamptz;
UPDATE provisioner_jobs SET reported_at = completed_at
WHERE completed_at IS NOT NULL AND worker_id IS NOT NULL AND coalesce(error_code, '') NOT IN ('daemon_timeout', 'pending_timeout');
