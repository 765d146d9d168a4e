using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

using Provisioning.TestProvider.Cty;
using Provisioning.TestProvider.Schema;

namespace Provisioning.TestProvider.Coder;

/// <summary>
/// What the coder provider does with its resources and data sources, for the ones this product uses: resources keep
/// what was planned (ids and agent tokens are new UUIDs), every attribute is ForceNew so a change replaces, data sources
/// read the build from the environment exactly as the real provider does (CODER_WORKSPACE_*, CODER_PARAMETER_*, …).
/// </summary>
internal sealed class CoderProvider(IReadOnlyDictionary<string, string> environment)
{
    private const string DefaultUrl = "https://mydeployment.coder.com";

    private Uri _url = new(DefaultUrl);

    public static SchemaBlock ResourceSchema(string type) =>
        CoderSchemas.Resources.TryGetValue(type, out var schema) ? schema : throw new UnknownTypeException($"The test provider does not serve the resource type {type}.");

    public static SchemaBlock DataSourceSchema(string type) =>
        CoderSchemas.DataSources.TryGetValue(type, out var schema) ? schema : throw new UnknownTypeException($"The test provider does not serve the data source {type}.");

    public List<ProviderDiagnostic> Configure(Dictionary<string, object?>? config)
    {
        // schema.EnvDefaultFunc: an empty CODER_AGENT_URL counts as unset.
        var url = config?.GetValueOrDefault("url") as string
            ?? (environment.GetValueOrDefault("CODER_AGENT_URL") is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultUrl);
        if (url.Length == 0)
        {
            return [new ProviderDiagnostic($"CODER_AGENT_URL must not be empty; got {GoFormat.Quote(url)}")];
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed))
        {
            return [new ProviderDiagnostic($"parse {GoFormat.Quote(url)}: invalid URI for request")];
        }

        _url = parsed;
        return [];
    }

    public static List<ProviderDiagnostic> Validate(string type, SchemaBlock schema, Dictionary<string, object?> config)
    {
        var diagnostics = new List<ProviderDiagnostic>();
        CheckBlock(schema, config, [], diagnostics);
        foreach (var (attribute, conflicts) in CoderSchemas.Conflicts.GetValueOrDefault(type) ?? [])
        {
            if (!IsSet(config.GetValueOrDefault(attribute)))
            {
                continue;
            }

            foreach (var other in conflicts.Where(other => IsSet(config.GetValueOrDefault(other))))
            {
                diagnostics.Add(new ProviderDiagnostic($"Conflicting configuration arguments", $"{GoFormat.Quote(attribute)}: conflicts with {other}", [attribute]));
            }
        }

        if (type == "coder_parameter" && config.GetValueOrDefault("validation") is List<object?> { Count: > 0 } rules && rules[0] is Dictionary<string, object?> rule
            && rule.GetValueOrDefault("regex") is not null)
        {
            foreach (var other in new[] { "min", "max", "monotonic" }.Where(other => rule.GetValueOrDefault(other) is not null))
            {
                diagnostics.Add(new ProviderDiagnostic("Conflicting configuration arguments", $"\"validation.0.regex\": conflicts with validation.0.{other}", ["validation", 0L, "regex"]));
            }
        }

        return diagnostics;
    }

    public static (Dictionary<string, object?>? Planned, List<string> RequiresReplace, List<ProviderDiagnostic> Diagnostics) Plan(
        string type, Dictionary<string, object?>? prior, Dictionary<string, object?>? proposed)
    {
        if (proposed is null)
        {
            return (null, [], []);
        }

        var schema = ResourceSchema(type);
        var candidate = (Dictionary<string, object?>)CtyValue.Copy(proposed)!;
        SdkValues.ApplyDefaults(schema, candidate, zeroFill: false);
        var diagnostics = CustomizeDiff(type, candidate);
        if (prior is not null)
        {
            // The prior state has the zero values the SDK stores for nested primitives left out; compare like with like.
            var comparable = (Dictionary<string, object?>)CtyValue.Copy(candidate)!;
            SdkValues.ApplyDefaults(schema, comparable, zeroFill: true);
            var differences = SdkValues.ConfigurableDifferences(schema, comparable, prior);
            if (differences.Count == 0)
            {
                return (prior, [], diagnostics);
            }

            // Every coder_* attribute is ForceNew: any change replaces the resource, with new computed values.
            foreach (var attribute in schema.Attributes.Values.Where(attribute => attribute.Computed && !attribute.Optional))
            {
                candidate[attribute.Name] = null;
            }

            candidate["id"] = null;
            SdkValues.MarkComputedUnknown(schema, candidate);
            return (candidate, differences, diagnostics);
        }

        SdkValues.MarkComputedUnknown(schema, candidate);
        return (candidate, [], diagnostics);
    }

    public (Dictionary<string, object?>? NewState, List<ProviderDiagnostic> Diagnostics) Apply(string type, Dictionary<string, object?>? planned)
    {
        if (planned is null)
        {
            return (null, []);
        }

        var state = (Dictionary<string, object?>)CtyValue.Copy(planned)!;
        var diagnostics = new List<ProviderDiagnostic>();
        if (state.GetValueOrDefault("id") is null || CtyValue.IsUnknown(state["id"]))
        {
            state["id"] = Guid.NewGuid().ToString();
        }

        switch (type)
        {
            case "coder_agent":
                FillAgent(state);
                break;
            case "coder_metadata":
                if (state.GetValueOrDefault("item") is List<object?> items)
                {
                    foreach (var item in items.OfType<Dictionary<string, object?>>())
                    {
                        // populateIsNull: a null value is stored as "" with is_null set.
                        item["is_null"] = item.GetValueOrDefault("value") is null;
                        item["value"] ??= "";
                    }
                }

                break;
            case "coder_script":
                var runOnStart = state.GetValueOrDefault("run_on_start") is true;
                var runOnStop = state.GetValueOrDefault("run_on_stop") is true;
                if (!runOnStart && !runOnStop && state.GetValueOrDefault("cron") is null or "")
                {
                    return (null, [new ProviderDiagnostic("at least one of \"run_on_start\", \"run_on_stop\", or \"cron\" must be set")]);
                }

                if (!runOnStart && state.GetValueOrDefault("start_blocks_login") is true)
                {
                    return (null, [new ProviderDiagnostic("\"start_blocks_login\" can only be set if \"run_on_start\" is \"true\"")]);
                }

                break;
            case "coder_devcontainer":
                // CreateContext sets the sub-agent's id beside the resource's own.
                if (state.GetValueOrDefault("subagent_id") is null || CtyValue.IsUnknown(state["subagent_id"]))
                {
                    state["subagent_id"] = Guid.NewGuid().ToString();
                }

                break;
            case "coder_app" when state.GetValueOrDefault("hidden") is true:
                foreach (var attribute in new[] { "display_name", "icon", "order" })
                {
                    if (state.GetValueOrDefault(attribute) is string { Length: > 0 } or decimal and not 0m)
                    {
                        diagnostics.Add(new ProviderDiagnostic($"`{attribute}` set when app is hidden") { IsWarning = true });
                    }
                }

                break;
        }

        SdkValues.ApplyDefaults(ResourceSchema(type), state, zeroFill: true);
        SdkValues.UnknownToNull(state);
        return (state, diagnostics);
    }

    /// <summary>ReadResource: the stored state, except that an agent gets a fresh token (and its defaults) as the real provider's read does.</summary>
    public Dictionary<string, object?>? Read(string type, Dictionary<string, object?>? current)
    {
        if (current is null || type != "coder_agent")
        {
            return current;
        }

        var state = (Dictionary<string, object?>)CtyValue.Copy(current)!;
        state["token"] = null;
        FillAgent(state);
        return state;
    }

    public (Dictionary<string, object?>? State, List<ProviderDiagnostic> Diagnostics) ReadData(string type, Dictionary<string, object?> config)
    {
        var schema = DataSourceSchema(type);
        var state = (Dictionary<string, object?>)CtyValue.Copy(config)!;
        SdkValues.ApplyDefaults(schema, state, zeroFill: true);
        List<ProviderDiagnostic> diagnostics = [];
        switch (type)
        {
            case "coder_parameter":
                diagnostics = ReadParameter(state, config);
                break;
            case "coder_workspace":
                diagnostics = ReadWorkspace(state);
                break;
            case "coder_workspace_owner":
                diagnostics = ReadWorkspaceOwner(state);
                break;
            case "coder_provisioner":
                state["id"] = Guid.NewGuid().ToString();
                state["os"] = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "darwin" : "windows";
                state["arch"] = RuntimeInformation.OSArchitecture switch
                {
                    Architecture.Arm64 => "arm64",
                    Architecture.Arm => "armv7",
                    Architecture.X86 => "386",
                    _ => "amd64",
                };
                break;
            case "coder_workspace_tags":
            case "coder_script_order":
                state["id"] = Guid.NewGuid().ToString();
                break;
            case "coder_workspace_preset":
                state["id"] = state["name"];
                break;
            case "coder_external_auth":
                var id = state.GetValueOrDefault("id") as string;
                if (string.IsNullOrEmpty(id))
                {
                    return (null, [new ProviderDiagnostic("id is required")]);
                }

                state["access_token"] = Env("CODER_EXTERNAL_AUTH_ACCESS_TOKEN_" + id);
                break;
        }

        if (diagnostics.Any(diagnostic => !diagnostic.IsWarning))
        {
            return (null, diagnostics);
        }

        SdkValues.UnknownToNull(state);
        return (state, diagnostics);
    }

    /// <summary>The name the real provider reads a parameter's value from: CODER_PARAMETER_ and the hex SHA-256 of its name.</summary>
    public static string ParameterVariable(string name, bool previous = false) =>
        (previous ? "CODER_PARAMETER_PREVIOUS_" : "CODER_PARAMETER_") + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));

    private List<ProviderDiagnostic> ReadParameter(Dictionary<string, object?> state, Dictionary<string, object?> config)
    {
        state["id"] = Guid.NewGuid().ToString();
        ParameterValidationRule? rule = null;
        if (state.GetValueOrDefault("validation") is List<object?> { Count: > 0 } rules && rules[0] is Dictionary<string, object?> validation)
        {
            // fixValidationResourceData: a min or max not in the configuration is disabled (and reads as 0).
            var configured = (config.GetValueOrDefault("validation") as List<object?>)?.FirstOrDefault() as Dictionary<string, object?>;
            var minDisabled = configured?.GetValueOrDefault("min") is null;
            var maxDisabled = configured?.GetValueOrDefault("max") is null;
            validation["min_disabled"] = minDisabled;
            validation["max_disabled"] = maxDisabled;
            rule = new ParameterValidationRule(
                (long)(decimal)(validation.GetValueOrDefault("min") ?? 0m), minDisabled,
                (long)(decimal)(validation.GetValueOrDefault("max") ?? 0m), maxDisabled,
                validation.GetValueOrDefault("monotonic") as string ?? "", validation.GetValueOrDefault("regex") as string ?? "", validation.GetValueOrDefault("error") as string ?? "");
        }

        var options = (state.GetValueOrDefault("option") as List<object?> ?? [])
            .OfType<Dictionary<string, object?>>()
            .Select(option => ((string)option["name"]!, (string)option["value"]!))
            .ToList();
        var parameter = new ParameterDefinition(
            (string)state["name"]!, (string)state["type"]!, (string)state["form_type"]!, state["mutable"] is true,
            state.GetValueOrDefault("default") as string, options, rule, state["ephemeral"] is true);
        var optional = parameter.Default is not null;
        state["optional"] = optional;
        if (!parameter.Mutable && parameter.Ephemeral)
        {
            return [new ProviderDiagnostic("parameter can't be immutable and ephemeral")];
        }

        if (!optional && parameter.Ephemeral)
        {
            return [new ProviderDiagnostic("ephemeral parameter requires the default property")];
        }

        var input = environment.TryGetValue(ParameterVariable(parameter.Name), out var value) ? value : null;
        var previous = environment.TryGetValue(ParameterVariable(parameter.Name, previous: true), out var previousValue) ? previousValue : null;
        var (resolved, formType, errors) = ParameterValidation.ValidateInput(parameter, input, previous);
        if (errors.Count > 0)
        {
            return [.. errors];
        }

        state["value"] = resolved;
        state["form_type"] = formType;
        return [];
    }

    private List<ProviderDiagnostic> ReadWorkspace(Dictionary<string, object?> state)
    {
        var transition = EnvOr("CODER_WORKSPACE_TRANSITION", "start");
        state["transition"] = transition;
        state["start_count"] = transition == "start" ? 1m : 0m;
        var isPrebuild = string.Equals(Env("CODER_WORKSPACE_IS_PREBUILD"), "true", StringComparison.OrdinalIgnoreCase);
        var isClaim = string.Equals(Env("CODER_WORKSPACE_IS_PREBUILD_CLAIM"), "true", StringComparison.OrdinalIgnoreCase);
        state["prebuild_count"] = isPrebuild && !isClaim ? 1m : 0m;
        state["is_prebuild"] = isPrebuild && !isClaim;
        state["is_prebuild_claim"] = isClaim;
        state["name"] = EnvOr("CODER_WORKSPACE_NAME", "default");
        state["id"] = EnvOr("CODER_WORKSPACE_ID", Guid.NewGuid().ToString());
        foreach (var (attribute, variable, what) in new[]
        {
            ("template_id", "CODER_WORKSPACE_TEMPLATE_ID", "template ID"),
            ("template_name", "CODER_WORKSPACE_TEMPLATE_NAME", "template name"),
            ("template_version", "CODER_WORKSPACE_TEMPLATE_VERSION", "template version"),
        })
        {
            // helpers.RequireEnv: required only during a workspace build (CODER_WORKSPACE_BUILD_ID set).
            var value = Env(variable);
            if (value.Length == 0 && Env("CODER_WORKSPACE_BUILD_ID").Length > 0)
            {
                return [new ProviderDiagnostic($"{what} is missing: {variable} is required")];
            }

            state[attribute] = value;
        }

        state["access_url"] = GoUrlString(_url);
        state["access_port"] = (decimal)(_url.IsDefaultPort ? (_url.Scheme == "https" ? 443 : 80) : _url.Port);
        return [];
    }

    private List<ProviderDiagnostic> ReadWorkspaceOwner(Dictionary<string, object?> state)
    {
        state["id"] = EnvOr("CODER_WORKSPACE_OWNER_ID", Guid.NewGuid().ToString());
        state["name"] = EnvOr("CODER_WORKSPACE_OWNER", "default");
        state["full_name"] = EnvOr("CODER_WORKSPACE_OWNER_NAME", "default");
        state["email"] = EnvOr("CODER_WORKSPACE_OWNER_EMAIL", "default@example.com");
        state["ssh_public_key"] = Env("CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY");
        state["ssh_private_key"] = Env("CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY");
        List<object?>? groups = null;
        if (environment.TryGetValue("CODER_WORKSPACE_OWNER_GROUPS", out var groupsJson))
        {
            try
            {
                groups = JsonSerializer.Deserialize<List<string>>(groupsJson)?.Cast<object?>().ToList();
            }
            catch (JsonException exception)
            {
                return [new ProviderDiagnostic($"invalid user groups: {exception.Message}")];
            }
        }

        state["groups"] = groups;
        state["session_token"] = Env("CODER_WORKSPACE_OWNER_SESSION_TOKEN");
        state["oidc_access_token"] = Env("CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN");
        state["login_type"] = Env("CODER_WORKSPACE_OWNER_LOGIN_TYPE") is { Length: > 0 } loginType ? loginType : null;
        List<object?>? roles = null;
        if (environment.TryGetValue("CODER_WORKSPACE_OWNER_RBAC_ROLES", out var rolesJson))
        {
            try
            {
                roles = JsonSerializer.Deserialize<List<Dictionary<string, string>>>(rolesJson)?
                    .Select(role => (object?)new Dictionary<string, object?>(StringComparer.Ordinal) { ["name"] = role.GetValueOrDefault("name"), ["org_id"] = role.GetValueOrDefault("org_id") })
                    .ToList();
            }
            catch (JsonException exception)
            {
                return [new ProviderDiagnostic($"invalid user rbac roles: {exception.Message}")];
            }
        }

        state["rbac_roles"] = roles;
        return [];
    }

    private void FillAgent(Dictionary<string, object?> state)
    {
        // agentAuthToken(ctx, ""): a prebuilt workspace's running agent keeps its token; the real provider hashes an empty agent id.
        if (state.GetValueOrDefault("token") is null || CtyValue.IsUnknown(state["token"]))
        {
            var running = Env("CODER_RUNNING_WORKSPACE_AGENT_TOKEN_" + Convert.ToHexStringLower(SHA256.HashData([])));
            state["token"] = running.Length > 0 ? running : Guid.NewGuid().ToString();
        }

        if (state.GetValueOrDefault("display_apps") is null or List<object?> { Count: 0 } || CtyValue.IsUnknown(state["display_apps"]))
        {
            state["display_apps"] = new List<object?>
            {
                new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["vscode"] = true,
                    ["vscode_insiders"] = false,
                    ["web_terminal"] = true,
                    ["ssh_helper"] = true,
                    ["port_forwarding_helper"] = true,
                },
            };
        }

        var script = Env($"CODER_AGENT_SCRIPT_{state["os"]}_{state["arch"]}");
        if (script.Length > 0)
        {
            script = script.Replace("${ACCESS_URL}", GoUrlString(new Uri(_url, "/")), StringComparison.Ordinal)
                .Replace("${AUTH_TYPE}", state.GetValueOrDefault("auth") as string ?? "token", StringComparison.Ordinal);
        }

        state["init_script"] = script;
    }

    private static void CheckBlock(SchemaBlock schema, Dictionary<string, object?> value, List<object> path, List<ProviderDiagnostic> diagnostics)
    {
        foreach (var attribute in schema.Attributes.Values)
        {
            var current = value.GetValueOrDefault(attribute.Name);
            if (attribute.Check is { } check && current is not null && !CtyValue.IsUnknown(current) && check(current) is { } error)
            {
                diagnostics.Add(new ProviderDiagnostic(error, "", [.. path, attribute.Name]));
            }
        }

        foreach (var nested in schema.Blocks.Values)
        {
            if (value.GetValueOrDefault(nested.Name) is List<object?> elements)
            {
                for (var index = 0; index < elements.Count; index++)
                {
                    if (elements[index] is Dictionary<string, object?> element)
                    {
                        CheckBlock(nested.Block, element, [.. path, nested.Name, (long)index], diagnostics);
                    }
                }
            }
        }
    }

    /// <summary>CustomizeDiff of coder_agent and coder_metadata: duplicate keys fail the plan.</summary>
    private static List<ProviderDiagnostic> CustomizeDiff(string type, Dictionary<string, object?> planned)
    {
        var (block, what) = type switch
        {
            "coder_agent" => ("metadata", "agent metadata"),
            "coder_metadata" => ("item", "resource metadata"),
            _ => ("", ""),
        };
        if (block.Length == 0 || planned.GetValueOrDefault(block) is not List<object?> elements)
        {
            return [];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in elements.OfType<Dictionary<string, object?>>().Select(element => element.GetValueOrDefault("key")).OfType<string>())
        {
            if (!seen.Add(key))
            {
                return [new ProviderDiagnostic($"duplicate {what} key {GoFormat.Quote(key)}")];
            }
        }

        return [];
    }

    /// <summary>SDKv2's ConflictsWith counts an attribute as set when the configuration gives it any value, false included; an unknown one is not judged.</summary>
    private static bool IsSet(object? value) => value is not null && !CtyValue.IsUnknown(value) && value is not List<object?> { Count: 0 };

    /// <summary>Go's url.URL.String(): no trailing slash is added to a bare host.</summary>
    private static string GoUrlString(Uri url) => url.AbsolutePath == "/" && !url.OriginalString.EndsWith('/') ? url.GetLeftPart(UriPartial.Authority) : url.ToString();

    private string Env(string name) => environment.GetValueOrDefault(name) ?? "";

    private string EnvOr(string name, string fallback) => Env(name) is { Length: > 0 } value ? value : fallback;
}
