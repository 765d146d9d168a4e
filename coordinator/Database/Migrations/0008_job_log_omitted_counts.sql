-- A job's log is capped per job (CoordinatorOptions.MaxJobLogBytes, `--max-job-log-size`) without ever
-- failing the build (DESIGN.md invariant 5). Lines past the cap are not stored, but they are counted, so
-- the line that ends the job's log can say how many lines and bytes were left out
-- (JobLogWriter.AppendOmittedSummaryAsync, run in the transaction that ends the job).
ALTER TABLE provisioner_jobs
    ADD COLUMN logs_omitted_lines bigint NOT NULL DEFAULT 0,
    ADD COLUMN logs_omitted_bytes bigint NOT NULL DEFAULT 0;
