-- Issue 10 items 3 and 4 (docs/decisions/0016-workspace-tag-evaluation-and-routing.md).

-- A dry run (Coder's workspace preview) belongs to the template version it plans; its job, logs and resources are the
-- ledger's (provisioner_jobs, provisioner_job_logs, workspace_resources), and this row says which version it
-- previewed, so /templates/{t}/versions/{v}/dry-run/{job} answers only for that version's dry runs.
CREATE TABLE template_version_dry_runs (
    job_id              uuid PRIMARY KEY REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
    template_version_id uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
    workspace_name      text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX template_version_dry_runs_version ON template_version_dry_runs (template_version_id);

-- `coder_workspace_tags` as the import reported them: each key with its raw HCL expression, evaluated at every build
-- and dry run with that run's parameter and variable values (as Coder's wsbuilder does) to route its job.
CREATE TABLE template_version_workspace_tags (
    template_version_id uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
    key                 text NOT NULL,
    value               text NOT NULL,
    PRIMARY KEY (template_version_id, key)
);
