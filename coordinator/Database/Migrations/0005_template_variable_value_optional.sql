-- A template variable that the author gave no value for has no value: Terraform applies the
-- template's own default. Storing the default as a value turned typed defaults (null, numbers,
-- objects) into strings, so the value becomes optional.
ALTER TABLE template_version_variables ALTER COLUMN value DROP NOT NULL;
ALTER TABLE template_version_variables ALTER COLUMN value DROP DEFAULT;
