using System.Text.RegularExpressions;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.State;

internal sealed partial class StateConversion
{
    // Agent names must be usable in hostnames; underscores were allowed until 2025-02 and get their own message.
    private const string AgentNamePattern = "(?i)^[a-z0-9](-?[a-z0-9])*$";
    private const string AppSlugPattern = "^[a-z0-9](-?[a-z0-9])*$";

    // The instance-identity attribute of the compute resources whose agents authenticate by instance id.
    private static readonly Dictionary<string, string> InstanceIdAttributes = new(StringComparer.Ordinal)
    {
        ["google_compute_instance"] = "instance_id",
        ["aws_instance"] = "id",
        ["aws_spot_instance_request"] = "spot_instance_id",
        ["azurerm_linux_virtual_machine"] = "virtual_machine_id",
        ["azurerm_windows_virtual_machine"] = "virtual_machine_id",
    };

    /// <summary>A devcontainer as attached to its agent, with the <c>coder_devcontainer</c> it came from.</summary>
    private sealed record AttachedDevcontainer(TerraformResource Resource, Devcontainer Devcontainer);

    // \z rather than $: .NET's $ also matches before a final newline, Go's does not.
    [GeneratedRegex(@"^[a-zA-Z0-9](-?[a-zA-Z0-9])*\z", RegexOptions.CultureInvariant)]
    private static partial Regex AgentNameRegex();

    [GeneratedRegex(@"^[a-z0-9](-?[a-z0-9])*\z", RegexOptions.CultureInvariant)]
    private static partial Regex AppSlugRegex();

    private void ConvertAgents()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in OfType("coder_agent"))
        {
            var agent = ConvertAgent(resource);
            ValidateAgentName(resource.Name, names);

            var label = resource.Label;
            var node = _graph.FindByAddress(label)
                ?? throw new StateConversionException($"couldn't find node on graph: {GoText.Quote(label)}");
            var target = FindNearestResource(node, upwards: true);
            if (target is null)
            {
                _detachedAgentAddresses.Add(agent, resource.Address);
                continue;
            }

            if (!_agentsByResourceLabel.TryGetValue(target, out var agents))
            {
                agents = [];
                _agentsByResourceLabel.Add(target, agents);
            }

            agents.Add(agent);
            _agents.Add(agent);
            _agentAddresses.Add(agent, resource.Address);
        }
    }

    private static void ValidateAgentName(string name, HashSet<string> seenLowercase)
    {
        if (name.Length == 0)
        {
            throw new StateConversionException("agent name cannot be empty");
        }

        if (!AgentNameRegex().IsMatch(name))
        {
            if (name.Contains('_', StringComparison.Ordinal))
            {
                throw new StateConversionException(
                    $"agent name {GoText.Quote(name)} contains underscores which are no longer supported, please use hyphens instead (regex: {GoText.Quote(AgentNamePattern)})");
            }

            throw new StateConversionException($"agent name {GoText.Quote(name)} does not match regex {GoText.Quote(AgentNamePattern)}");
        }

        // Case-insensitively unique, to be unambiguous in app URLs and DNS names.
        if (!seenLowercase.Add(name.ToLowerInvariant()))
        {
            throw new StateConversionException($"duplicate agent name: {name}");
        }
    }

    private static Agent ConvertAgent(TerraformResource resource)
    {
        var attributes = resource.Attributes;
        var agent = new Agent
        {
            Name = resource.Name,
            Id = attributes.String("id", AgentAttributes),
            OperatingSystem = attributes.String("os", AgentAttributes),
            Architecture = attributes.String("arch", AgentAttributes),
            Directory = attributes.String("dir", AgentAttributes),
            ConnectionTimeoutSeconds = attributes.Int32("connection_timeout", AgentAttributes),
            TroubleshootingUrl = attributes.String("troubleshooting_url", AgentAttributes),
            MotdFile = attributes.String("motd_file", AgentAttributes),
            Order = attributes.Int64("order", AgentAttributes),
            DisplayApps = ConvertDisplayApps(attributes),
            ResourcesMonitoring = ConvertResourcesMonitoring(attributes),

            // States written by providers that predate api_key_scope carry no value; the provider's default
            // (and so the reference's goldens for such states) is "all".
            ApiKeyScope = attributes.String("api_key_scope", AgentAttributes) is { Length: > 0 } scope ? scope : "all",
        };

        if (attributes.StringMap("env", AgentAttributes) is { } env)
        {
            foreach (var (key, value) in env)
            {
                agent.Env[key] = value;
            }
        }

        foreach (var item in attributes.Blocks("metadata", AgentAttributes))
        {
            agent.Metadata.Add(new Agent.Types.Metadata
            {
                Key = item.String("key", AgentAttributes),
                DisplayName = item.String("display_name", AgentAttributes),
                Script = item.String("script", AgentAttributes),
                Interval = item.Int64("interval", AgentAttributes),
                Timeout = item.Int64("timeout", AgentAttributes),
                Order = item.Int64("order", AgentAttributes),
            });
        }

        AddLegacyScripts(agent, attributes);

        if (attributes.String("auth", AgentAttributes) == "token")
        {
            agent.Token = attributes.String("token", AgentAttributes);
        }
        else
        {
            // Any other auth is an instance identity; the id itself comes from coder_agent_instance or the
            // compute resource.
            agent.InstanceId = "";
        }

        return agent;
    }

    /// <summary>The agent's deprecated startup_script / shutdown_script attributes, as scripts.</summary>
    private static void AddLegacyScripts(Agent agent, ResourceAttributes attributes)
    {
        var behavior = attributes.String("startup_script_behavior", AgentAttributes);
        if (behavior.Length == 0)
        {
            // Providers before v0.6.10 had login_before_ready (default true) instead; only its explicit
            // presence as false means "blocking".
            behavior = attributes.Has("login_before_ready") && !attributes.Bool("login_before_ready", AgentAttributes)
                ? "blocking"
                : "non-blocking";
        }

        var startupScript = attributes.String("startup_script", AgentAttributes);
        if (startupScript.Length > 0)
        {
            agent.Scripts.Add(new Script
            {
                Icon = "/emojis/25b6-fe0f.png",
                LogPath = "coder-startup-script.log",
                DisplayName = "Startup Script",
                Script_ = startupScript,
                StartBlocksLogin = behavior == "blocking",
                RunOnStart = true,
            });
        }

        var shutdownScript = attributes.String("shutdown_script", AgentAttributes);
        if (shutdownScript.Length > 0)
        {
            agent.Scripts.Add(new Script
            {
                Icon = "/emojis/25c0.png",
                LogPath = "coder-shutdown-script.log",
                DisplayName = "Shutdown Script",
                Script_ = shutdownScript,
                RunOnStop = true,
            });
        }
    }

    private static DisplayApps ConvertDisplayApps(ResourceAttributes attributes)
    {
        var blocks = attributes.Blocks("display_apps", AgentAttributes);
        if (blocks.Count == 0)
        {
            // Without a display_apps block every built-in app is shown except VS Code Insiders.
            return new DisplayApps { Vscode = true, WebTerminal = true, SshHelper = true, PortForwardingHelper = true };
        }

        var block = blocks[0];
        return new DisplayApps
        {
            Vscode = block.Bool("vscode", AgentAttributes),
            VscodeInsiders = block.Bool("vscode_insiders", AgentAttributes),
            WebTerminal = block.Bool("web_terminal", AgentAttributes),
            SshHelper = block.Bool("ssh_helper", AgentAttributes),
            PortForwardingHelper = block.Bool("port_forwarding_helper", AgentAttributes),
        };
    }

    private static ResourcesMonitoring ConvertResourcesMonitoring(ResourceAttributes attributes)
    {
        var monitoring = new ResourcesMonitoring();
        var blocks = attributes.Blocks("resources_monitoring", AgentAttributes);
        foreach (var block in blocks)
        {
            foreach (var memory in block.Blocks("memory", AgentAttributes))
            {
                monitoring.Memory = new MemoryResourceMonitor
                {
                    Enabled = memory.Bool("enabled", AgentAttributes),
                    Threshold = memory.Int32("threshold", AgentAttributes),
                };
            }
        }

        foreach (var block in blocks)
        {
            foreach (var volume in block.Blocks("volume", AgentAttributes))
            {
                monitoring.Volumes.Add(new VolumeResourceMonitor
                {
                    Path = volume.String("path", AgentAttributes),
                    Enabled = volume.Bool("enabled", AgentAttributes),
                    Threshold = volume.Int32("threshold", AgentAttributes),
                });
            }
        }

        return monitoring;
    }

    /// <summary>
    /// Each <c>coder_devcontainer</c> joins the agent it names. Its sub-agent then takes the apps, scripts and
    /// environment variables whose <c>agent_id</c> is its <c>subagent_id</c> (see <see cref="FindDevcontainer"/>).
    /// </summary>
    private void AttachDevcontainers()
    {
        const string what = "devcontainer attributes";
        foreach (var resource in OfType("coder_devcontainer"))
        {
            var attributes = resource.Attributes;
            var agentId = attributes.String("agent_id", what);
            var subagentId = attributes.String("subagent_id", what);
            var devcontainer = new Devcontainer
            {
                Name = resource.Name,
                WorkspaceFolder = attributes.String("workspace_folder", what),
                ConfigPath = attributes.String("config_path", what),
                Id = attributes.String("id", what),
                SubagentId = subagentId,
            };
            foreach (var agent in _agents.Where(agent => DependsOnAgent(agent, agentId, resource)))
            {
                var copy = devcontainer.Clone();
                agent.Devcontainers.Add(copy);
                _devcontainers.Add(new AttachedDevcontainer(resource, copy));
            }
        }
    }

    /// <summary>
    /// The devcontainer whose sub-agent a resource with an <c>agent_id</c> belongs to, or null when it belongs to
    /// an agent. As <see cref="DependsOnAgent"/> does for agents: after apply the ids are compared; in a plan both
    /// are unknown and a direct graph edge from the resource to the <c>coder_devcontainer</c> decides.
    /// </summary>
    private AttachedDevcontainer? FindDevcontainer(string resourceAgentId, TerraformResource resource)
    {
        foreach (var attached in _devcontainers)
        {
            var subagentId = attached.Devcontainer.SubagentId;
            var belongs = subagentId.Length == 0 && resourceAgentId.Length == 0
                ? _graph.HasDirectEdge($"{resource.Type}.{resource.Name}", $"coder_devcontainer.{attached.Resource.Name}")
                : subagentId == resourceAgentId;
            if (belongs)
            {
                return attached;
            }
        }

        return null;
    }

    /// <summary>
    /// <c>coder_agent_instance</c> supplies the instance id of an agent that authenticates by instance
    /// identity; it is ignored for token agents (a template can carry both by mistake).
    /// </summary>
    private void ApplyAgentInstances()
    {
        foreach (var resource in OfType("coder_agent_instance"))
        {
            if (resource.Attributes.StringOrNull("agent_id") is not { } agentId
                || resource.Attributes.StringOrNull("instance_id") is not { } instanceId)
            {
                continue;
            }

            var agent = _agents.FirstOrDefault(agent => agent.Id == agentId && agent.AuthCase == Agent.AuthOneofCase.InstanceId);
            if (agent is not null)
            {
                agent.InstanceId = instanceId;
            }
        }
    }

    private void AttachApps()
    {
        const string what = "app attributes";
        var slugs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in OfType("coder_app"))
        {
            var attributes = resource.Attributes;
            var slug = attributes.String("slug", what) is { Length: > 0 } given ? given : resource.Name;
            var displayName = attributes.String("display_name", what);
            if (displayName.Length == 0)
            {
                // "name" is the deprecated spelling of display_name.
                displayName = attributes.String("name", what) is { Length: > 0 } name ? name : slug;
            }

            if (!AppSlugRegex().IsMatch(slug))
            {
                throw new StateConversionException($"app slug {GoText.Quote(slug)} does not match regex {GoText.Quote(AppSlugPattern)}");
            }

            if (!slugs.Add(slug))
            {
                throw new StateConversionException($"duplicate app slug, they must be unique per template: {GoText.Quote(slug)}");
            }

            var app = new App
            {
                // A plan has no ids yet; the reference gives such apps a fresh one.
                Id = attributes.String("id", what) is { Length: > 0 } id ? id : Guid.NewGuid().ToString(),
                Slug = slug,
                DisplayName = displayName,
                Command = attributes.String("command", what),
                External = attributes.Bool("external", what),
                Url = attributes.String("url", what),
                Icon = attributes.String("icon", what),
                Subdomain = attributes.Bool("subdomain", what),
                SharingLevel = attributes.String("share", what).ToLowerInvariant() switch
                {
                    "authenticated" => AppSharingLevel.Authenticated,
                    "public" => AppSharingLevel.Public,
                    _ => AppSharingLevel.Owner,
                },
                OpenIn = attributes.String("open_in", what).ToLowerInvariant() == "tab" ? AppOpenIn.Tab : AppOpenIn.SlimWindow,
                Order = attributes.Int64("order", what),
                Group = attributes.String("group", what),
                Hidden = attributes.Bool("hidden", what),
                Tooltip = attributes.String("tooltip", what),
            };

            var healthchecks = attributes.Blocks("healthcheck", what);
            if (healthchecks.Count > 0)
            {
                app.Healthcheck = new Healthcheck
                {
                    Url = healthchecks[0].String("url", what),
                    Interval = healthchecks[0].Int32("interval", what),
                    Threshold = healthchecks[0].Int32("threshold", what),
                };
            }

            var agentId = attributes.String("agent_id", what);
            if (FindDevcontainer(agentId, resource) is { } devcontainer)
            {
                devcontainer.Devcontainer.Apps.Add(app);
            }
            else
            {
                _agents.FirstOrDefault(agent => DependsOnAgent(agent, agentId, resource))?.Apps.Add(app);
            }
        }
    }

    private void AttachEnvs()
    {
        const string what = "env attributes";
        foreach (var resource in OfType("coder_env"))
        {
            var attributes = resource.Attributes;
            var env = new Env
            {
                Name = attributes.String("name", what),
                Value = attributes.String("value", what),
                MergeStrategy = attributes.String("merge_strategy", what),
            };
            var agentId = attributes.String("agent_id", what);
            if (FindDevcontainer(agentId, resource) is { } devcontainer)
            {
                devcontainer.Devcontainer.Envs.Add(env);
            }
            else
            {
                _agents.FirstOrDefault(agent => DependsOnAgent(agent, agentId, resource))?.ExtraEnvs.Add(env);
            }
        }
    }

    private void AttachScripts()
    {
        const string what = "script attributes";
        foreach (var resource in OfType("coder_script"))
        {
            var attributes = resource.Attributes;
            var script = new Script
            {
                DisplayName = attributes.String("display_name", what),
                Icon = attributes.String("icon", what),
                Script_ = attributes.String("script", what),
                Cron = attributes.String("cron", what),
                LogPath = attributes.String("log_path", what),
                StartBlocksLogin = attributes.Bool("start_blocks_login", what),
                RunOnStart = attributes.Bool("run_on_start", what),
                RunOnStop = attributes.Bool("run_on_stop", what),
                TimeoutSeconds = attributes.Int32("timeout", what),
                ResourceAddress = resource.Address,
            };
            // Where the script runs decides which other scripts it may be ordered with (StateConversion.ScriptOrder.cs):
            // the address of its agent or devcontainer, "" when it joined neither.
            var agentId = attributes.String("agent_id", what);
            var runtimeAddress = "";
            if (FindDevcontainer(agentId, resource) is { } devcontainer)
            {
                devcontainer.Devcontainer.Scripts.Add(script);
                runtimeAddress = devcontainer.Resource.Address;
            }
            else if (_agents.FirstOrDefault(agent => DependsOnAgent(agent, agentId, resource)) is { } agent)
            {
                agent.Scripts.Add(script);
                runtimeAddress = _agentAddresses[agent];
            }
            else if (_detachedAgentAddresses.FirstOrDefault(pair => DependsOnAgent(pair.Key, agentId, resource)) is { Key: not null } detached)
            {
                // Reported nowhere (its agent is not), but ordered with the other scripts of the same agent.
                runtimeAddress = detached.Value;
            }

            _scriptsByAddress[resource.Address] = new OrderableScript(script, runtimeAddress, script.RunOnStart, script.RunOnStop, script.Cron);
        }
    }

    /// <summary>
    /// Compute resources that know their cloud instance id hand it to their instance-identity agents,
    /// unless a token is used or an id was already given.
    /// </summary>
    private static void ApplyAutomaticInstanceId(TerraformResource resource, IEnumerable<Agent> agents)
    {
        if (!InstanceIdAttributes.TryGetValue(resource.Type, out var attribute)
            || resource.Attributes.StringOrNull(attribute) is not { } instanceId)
        {
            return;
        }

        foreach (var agent in agents)
        {
            if (agent.Token.Length > 0 || agent.InstanceId.Length > 0)
            {
                continue;
            }

            agent.InstanceId = instanceId;
        }
    }
}
