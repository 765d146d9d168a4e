-- The dev containers an agent starts (`coder_devcontainer`, issue 10 item 8), each run by a sub-agent of its own, with
-- what the template attaches to that sub-agent: the apps, scripts and environment variables whose `agent_id` is the
-- devcontainer's `subagent_id`. Kept with the agent they belong to, written and read with it (JobResultWriter,
-- WorkspaceResources). The sub-agent's apps, scripts and variables are JSON arrays in the provisioner protocol's JSON
-- form, as workspace_agents.scripts already is: they are read and shown together, never queried one by one.
-- No unique name: two modules can each attach a devcontainer of the same name to one agent.
CREATE TABLE workspace_agent_devcontainers (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id              uuid NOT NULL REFERENCES workspace_agents (id) ON DELETE CASCADE,
    name                  text NOT NULL,
    workspace_folder      text NOT NULL,
    config_path           text NOT NULL DEFAULT '',
    -- The coder_devcontainer's own id and its sub-agent's id, as the provider set them ('' in a plan).
    terraform_resource_id text NOT NULL DEFAULT '',
    subagent_id           text NOT NULL DEFAULT '',
    apps                  jsonb NOT NULL DEFAULT '[]',
    scripts               jsonb NOT NULL DEFAULT '[]',
    envs                  jsonb NOT NULL DEFAULT '[]',
    display_order         integer NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_agent_devcontainers_agent_id ON workspace_agent_devcontainers (agent_id);
