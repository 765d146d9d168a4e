namespace Provisioning.Testing;

/// <summary>
/// Terraform text that several tests push through the coder test provider (<see cref="CoderProviderMirror"/>), kept
/// in one place so the converter's, the daemon's and the CLI's tests exercise the same template and change together.
/// </summary>
public static class CoderTemplateText
{
    /// <summary>The <c>terraform</c> block every Coder-style template starts with.</summary>
    public const string RequiredProviders = """
        terraform {
          required_providers {
            coder = {
              source = "coder/coder"
            }
          }
        }

        """;

    /// <summary>
    /// On agent <c>main</c> (declared by the test): Install runs after Clone; a devcontainer <c>dev</c> whose sub-agent
    /// runs Setup, then Run once Setup completed, and has an app <c>dc-app</c> and a variable <c>IN_DEVCONTAINER</c>
    /// (docs/decisions/0018-script-order-and-devcontainers.md).
    /// </summary>
    public const string OrderedScriptsAndDevcontainer = """

        resource "coder_devcontainer" "dev" {
          agent_id         = coder_agent.main.id
          workspace_folder = "/workspace"
          config_path      = "/workspace/.devcontainer/devcontainer.json"
        }

        resource "coder_script" "clone" {
          agent_id     = coder_agent.main.id
          display_name = "Clone"
          script       = "echo clone"
          run_on_start = true
        }

        resource "coder_script" "install" {
          agent_id     = coder_agent.main.id
          display_name = "Install"
          script       = "echo install"
          run_on_start = true
        }

        resource "coder_script" "dc_setup" {
          agent_id     = coder_devcontainer.dev.subagent_id
          display_name = "Devcontainer setup"
          script       = "echo setup"
          run_on_start = true
        }

        resource "coder_script" "dc_run" {
          agent_id     = coder_devcontainer.dev.subagent_id
          display_name = "Devcontainer run"
          script       = "echo run"
          run_on_start = true
        }

        resource "coder_app" "dc_app" {
          agent_id = coder_devcontainer.dev.subagent_id
          slug     = "dc-app"
        }

        resource "coder_env" "dc_env" {
          agent_id = coder_devcontainer.dev.subagent_id
          name     = "IN_DEVCONTAINER"
          value    = "1"
        }

        data "coder_script_order" "startup" {
          rule {
            run   = ["coder_script.install"]
            after = ["coder_script.clone"]
          }

          rule {
            run      = ["coder_script.dc_run"]
            after    = ["coder_script.dc_setup"]
            requires = "completion"
          }
        }

        """;
}
