-- Terraform variable types are expressions ("list(string)", "map(number)", "object({...})"), not just
-- the three primitive names 0001 allowed; the type is stored as written in the template.
ALTER TABLE template_version_variables DROP CONSTRAINT template_version_variables_type_check;
