-- Presets (`coder_workspace_preset`): named sets of parameter values a template version offers, reported by its
-- import (CompletedJob.TemplateImport.presets) and applied by WorkspaceBuilder when a build names one (issue 10
-- item 5). Stored per version, like its parameters, because a preset names that version's parameters.
CREATE TABLE template_version_presets (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    template_version_id uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
    name                text NOT NULL,
    is_default          boolean NOT NULL DEFAULT false,
    prebuild_instances  integer,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (template_version_id, name)
);

CREATE TABLE template_version_preset_parameters (
    preset_id uuid NOT NULL REFERENCES template_version_presets (id) ON DELETE CASCADE,
    name      text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (preset_id, name)
);

-- Which preset a build applied (NULL: none), as Coder records it; a deleted version's presets go with it.
ALTER TABLE workspace_builds
    ADD COLUMN template_version_preset_id uuid REFERENCES template_version_presets (id) ON DELETE SET NULL;
