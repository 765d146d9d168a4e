-- REST API additions: roles, activation on import success, and job-end notifications.

-- Roles: admin ⊇ template-admin ⊇ member. users.is_admin stays, kept equal to role = 'admin'.
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'template-admin', 'member'));
UPDATE users SET role = 'admin' WHERE is_admin;

-- A pushed version asks to become active; it does only when its import succeeds (trigger below).
ALTER TABLE template_versions ADD COLUMN activate_on_success boolean NOT NULL DEFAULT false;

-- When a job ends, whichever path ends it (daemon report, cancel, reaper):
--  * a successful import activates its version when activation was asked (never otherwise: a version
--    nobody asked to activate waits for PATCH .../activate);
--  * a successful delete build marks its workspace deleted;
--  * log followers on every replica are woken (they LISTEN on provisioner_job_logs), so a follower
--    learns that the job ended without polling.
CREATE FUNCTION provisioner_jobs_on_completed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.canceled_at IS NULL AND coalesce(NEW.error, '') = '' THEN
        IF NEW.type = 'template_version_import' THEN
            UPDATE templates t SET active_version_id = v.id, updated_at = now()
            FROM template_versions v
            WHERE v.job_id = NEW.id AND t.id = v.template_id
              AND v.activate_on_success;
        ELSIF NEW.type = 'workspace_build' THEN
            UPDATE workspaces w SET deleted = true, updated_at = now()
            FROM workspace_builds b
            WHERE b.job_id = NEW.id AND w.id = b.workspace_id AND b.transition = 'delete';
        END IF;
    END IF;
    PERFORM pg_notify('provisioner_job_logs', NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER provisioner_jobs_on_completed
    AFTER UPDATE OF completed_at ON provisioner_jobs
    FOR EACH ROW WHEN (OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL)
    EXECUTE FUNCTION provisioner_jobs_on_completed();

-- Cancel requests wake followers too (a running job turning "canceling").
CREATE FUNCTION provisioner_jobs_on_canceled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('provisioner_job_logs', NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER provisioner_jobs_on_canceled
    AFTER UPDATE OF canceled_at ON provisioner_jobs
    FOR EACH ROW WHEN (OLD.canceled_at IS NULL AND NEW.canceled_at IS NOT NULL)
    EXECUTE FUNCTION provisioner_jobs_on_canceled();
