-- What a `coder_workspace_preset` says beyond its values (issue 10 item 8): its description and icon for whoever picks
-- one, and its prebuild policy as Coder records it (an unclaimed prebuild's time to live, and schedules that change
-- how many are kept). Kept with the preset it describes; the schedules as one JSON array of {"cron", "instances"}
-- because they are read and shown together, never queried one by one.
ALTER TABLE template_version_presets
    ADD COLUMN description          text NOT NULL DEFAULT '',
    ADD COLUMN icon                 text NOT NULL DEFAULT '',
    ADD COLUMN prebuild_ttl_seconds integer,
    ADD COLUMN prebuild_timezone    text,
    ADD COLUMN prebuild_schedules   jsonb NOT NULL DEFAULT '[]';

-- Whether the version's start plan has a `coder_external_agent` (an agent on a machine the template does not build),
-- as Coder records it on the version.
ALTER TABLE template_versions
    ADD COLUMN has_external_agents boolean NOT NULL DEFAULT false;
