using System.Collections;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// The environment Terraform runs with: the daemon's own minus its secrets, plus automation settings,
/// the shared plugin cache, and the workspace's metadata in the reference system's variable names
/// (<c>CODER_WORKSPACE_*</c>, <c>CODER_PARAMETER_*</c>) and as <c>TF_VAR_workspace_*</c>.
/// A null value means "remove this variable from the inherited environment".
/// </summary>
internal static class TerraformEnvironment
{
    /// <summary>The daemon's own settings and credentials (provisioner key, PSK, session token) all start with this.</summary>
    internal const string DaemonPrefix = "PROVISIONING_";

    public static Dictionary<string, string?> Build(
        TerraformOptions options,
        IDictionary hostEnvironment,
        Metadata? metadata,
        IEnumerable<RichParameterValue> richParameters,
        IEnumerable<ExternalAuthProvider> externalAuth,
        string? cliConfigFile,
        LogLevel logThreshold = LogLevel.Info,
        IEnumerable<RichParameterValue>? previousParameters = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hostEnvironment);
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in hostEnvironment)
        {
            if (entry.Key is string name && IsStripped(name, options.StripEnvironmentVariables))
            {
                environment[name] = null;
            }
        }

        environment["TF_IN_AUTOMATION"] = "1";
        environment["TF_INPUT"] = "0";
        environment["CHECKPOINT_DISABLE"] = "1";
        environment["TF_PLUGIN_CACHE_DIR"] = options.PluginCacheDirectory;
        if (cliConfigFile is not null)
        {
            environment["TF_CLI_CONFIG_FILE"] = cliConfigFile;
        }

        if (logThreshold <= LogLevel.Debug)
        {
            // JSON, not DEBUG: every line then carries its level, so the job log can keep or drop it.
            environment["TF_LOG"] = "JSON";
        }

        metadata ??= new Metadata();
        var transition = metadata.WorkspaceTransition switch
        {
            WorkspaceTransition.Stop => "stop",
            WorkspaceTransition.Destroy => "destroy",
            _ => "start",
        };
        environment["CODER_AGENT_URL"] = metadata.CoderUrl;
        environment["CODER_WORKSPACE_TRANSITION"] = transition;
        environment["CODER_WORKSPACE_NAME"] = metadata.WorkspaceName;
        environment["CODER_WORKSPACE_OWNER"] = metadata.WorkspaceOwner;
        environment["CODER_WORKSPACE_OWNER_EMAIL"] = metadata.WorkspaceOwnerEmail;
        environment["CODER_WORKSPACE_OWNER_NAME"] = metadata.WorkspaceOwnerName;
        environment["CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN"] = metadata.WorkspaceOwnerOidcAccessToken;
        environment["CODER_WORKSPACE_OWNER_GROUPS"] = JsonSerializer.Serialize(metadata.WorkspaceOwnerGroups.ToArray());
        environment["CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY"] = metadata.WorkspaceOwnerSshPublicKey;
        environment["CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY"] = metadata.WorkspaceOwnerSshPrivateKey;
        environment["CODER_WORKSPACE_OWNER_LOGIN_TYPE"] = metadata.WorkspaceOwnerLoginType;
        environment["CODER_WORKSPACE_OWNER_RBAC_ROLES"] = JsonSerializer.Serialize(
            metadata.WorkspaceOwnerRbacRoles.Select(role => new Dictionary<string, string> { ["name"] = role.Name, ["org_id"] = role.OrgId }).ToArray());
        environment["CODER_WORKSPACE_ID"] = metadata.WorkspaceId;
        environment["CODER_WORKSPACE_OWNER_ID"] = metadata.WorkspaceOwnerId;
        environment["CODER_WORKSPACE_OWNER_SESSION_TOKEN"] = metadata.WorkspaceOwnerSessionToken;
        environment["CODER_WORKSPACE_TEMPLATE_ID"] = metadata.TemplateId;
        environment["CODER_WORKSPACE_TEMPLATE_NAME"] = metadata.TemplateName;
        environment["CODER_WORKSPACE_TEMPLATE_VERSION"] = metadata.TemplateVersion;
        environment["CODER_WORKSPACE_BUILD_ID"] = metadata.WorkspaceBuildId;
        if (metadata.IsPrebuild)
        {
            environment["CODER_WORKSPACE_IS_PREBUILD"] = "true";
        }

        if (!string.IsNullOrEmpty(metadata.PrebuildClaimForUserId))
        {
            environment["CODER_WORKSPACE_IS_PREBUILD_CLAIM"] = "true";
        }

        if (!string.IsNullOrEmpty(metadata.RunningWorkspaceAgentToken))
        {
            // A claimed prebuild's agent keeps its token. With one agent Coder names the variable after the sha256 of an
            // empty agent id, which is the name the provider reads (RunningAgentTokenEnvironmentVariable("")).
            environment[RunningAgentTokenVariableName("")] = metadata.RunningWorkspaceAgentToken;
        }

        foreach (var (name, script) in AgentScripts.Environment())
        {
            environment[name] = script;
        }

        // Templates without the coder provider read the build through ordinary variables; Terraform
        // ignores TF_VAR_ variables a template does not declare, so these are always safe to set.
        // A template import has no workspace: leaving these unset lets the template's defaults (and validations) apply.
        environment["TF_VAR_workspace_name"] = NullIfEmpty(metadata.WorkspaceName);
        environment["TF_VAR_workspace_owner"] = NullIfEmpty(metadata.WorkspaceOwner);
        environment["TF_VAR_workspace_id"] = NullIfEmpty(metadata.WorkspaceId);
        environment["TF_VAR_workspace_transition"] = transition;
        environment["TF_VAR_workspace_build_number"] = metadata.WorkspaceBuildNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);

        foreach (var parameter in richParameters)
        {
            environment[ParameterVariableName(parameter.Name)] = parameter.Value;
        }

        // The provider checks `validation { monotonic }` against these; the first build has none, so nothing is set.
        foreach (var parameter in previousParameters ?? [])
        {
            environment[PreviousParameterVariableName(parameter.Name)] = parameter.Value;
        }

        foreach (var provider in externalAuth)
        {
            environment["CODER_EXTERNAL_AUTH_ACCESS_TOKEN_" + provider.Id] = provider.AccessToken;
            // Templates written for version 1 of the coder provider still read the old name.
            environment["CODER_GIT_AUTH_ACCESS_TOKEN_" + provider.Id] = provider.AccessToken;
        }

        return environment;
    }

    /// <summary>
    /// Lines telling which TF_* variables the daemon's environment passes on to Terraform: they change its
    /// behaviour (TF_LOG, TF_WORKSPACE, TF_VAR_…) in ways a template author cannot see otherwise. Values are
    /// shown only for variables that cannot hold secrets.
    /// </summary>
    public static IEnumerable<string> DescribeInherited(IDictionary hostEnvironment, IEnumerable<string> stripped)
    {
        ArgumentNullException.ThrowIfNull(hostEnvironment);
        var names = hostEnvironment.Keys.OfType<string>()
            .Where(name => name.StartsWith("TF_", StringComparison.Ordinal) && !IsStripped(name, stripped))
            .Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var value = SafeToShow.Contains(name) ? hostEnvironment[name] as string : "<value redacted>";
            yield return $"terraform environment variable from the daemon: {name}={value}";
        }
    }

    private static readonly HashSet<string> SafeToShow = new(StringComparer.Ordinal)
    {
        "TF_LOG", "TF_LOG_PATH", "TF_INPUT", "TF_DATA_DIR", "TF_WORKSPACE", "TF_IN_AUTOMATION",
        "TF_REGISTRY_DISCOVERY_RETRY", "TF_REGISTRY_CLIENT_TIMEOUT", "TF_CLI_CONFIG_FILE", "TF_IGNORE", "TF_PLUGIN_CACHE_DIR",
    };

    /// <summary>The session's log level ("trace", "debug", "info", "warn", "error"; empty or unknown means info).</summary>
    public static LogLevel ParseLogThreshold(string? level) => level?.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warn" or "warning" => LogLevel.Warn,
        "error" => LogLevel.Error,
        _ => LogLevel.Info,
    };

    /// <summary>The coder provider reads a parameter's value from CODER_PARAMETER_ + hex SHA-256 of its name.</summary>
    /// <summary>The provider's <c>RunningAgentTokenEnvironmentVariable</c>: <c>CODER_RUNNING_WORKSPACE_AGENT_TOKEN_</c> and the sha256 of the agent id, hex.</summary>
    public static string RunningAgentTokenVariableName(string agentId) =>
        "CODER_RUNNING_WORKSPACE_AGENT_TOKEN_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(agentId)));

    public static string ParameterVariableName(string name) =>
        "CODER_PARAMETER_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));

    /// <summary>The previous build's value of a parameter: CODER_PARAMETER_PREVIOUS_ + hex SHA-256 of its name (the coder provider's contract).</summary>
    public static string PreviousParameterVariableName(string name) =>
        "CODER_PARAMETER_PREVIOUS_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));

    /// <summary>The values in the environment a log line must never show.</summary>
    public static IEnumerable<string?> Secrets(Metadata? metadata, IEnumerable<ExternalAuthProvider> externalAuth)
    {
        if (metadata is not null)
        {
            yield return metadata.WorkspaceOwnerOidcAccessToken;
            yield return metadata.WorkspaceOwnerSessionToken;
            yield return metadata.WorkspaceOwnerSshPrivateKey;
            yield return metadata.RunningWorkspaceAgentToken;
        }

        foreach (var provider in externalAuth)
        {
            yield return provider.AccessToken;
        }
    }

    internal static bool IsStripped(string name, IEnumerable<string> extra)
    {
        if (name.StartsWith(DaemonPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var pattern in extra)
        {
            var matches = pattern.EndsWith('*')
                ? name.StartsWith(pattern[..^1], StringComparison.Ordinal)
                : string.Equals(name, pattern, StringComparison.Ordinal);
            if (matches)
            {
                return true;
            }
        }

        return false;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
