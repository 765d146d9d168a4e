using System.Text.RegularExpressions;

using Provisioning.TestProvider.Cty;
using Provisioning.TestProvider.Schema;

namespace Provisioning.TestProvider.Coder;

/// <summary>
/// The schemas of coder/terraform-provider-coder v2.17.0 (provider/*.go) for what this product uses, as its SDKv2
/// schemas appear on the wire: every resource and data source has an optional+computed <c>id</c> unless it declares
/// one; defaults are the provider's to apply, so they are not in the schema. Descriptions are left out.
/// One later addition: the <c>coder_script_order</c> data source of v2.20.0 (docs/decisions/0018-script-order-and-devcontainers.md).
/// </summary>
internal static partial class CoderSchemas
{
    public const string Version = "2.17.0";

    public static readonly SchemaBlock Provider = new([Optional("url", CtyType.String)]);

    public static readonly IReadOnlyDictionary<string, SchemaBlock> Resources = new Dictionary<string, SchemaBlock>(StringComparer.Ordinal)
    {
        ["coder_agent"] = Agent(),
        ["coder_agent_instance"] = new([Id(), Required("agent_id", CtyType.String), Required("instance_id", CtyType.String)]),
        // An agent whose machine Coder does not build (provider/external_agent.go): the template version then has external agents.
        ["coder_external_agent"] = new([Id(), Required("agent_id", CtyType.String)]),
        ["coder_app"] = App(),
        ["coder_script"] = Script(),
        // A dev container the agent starts (provider/devcontainer.go); its sub-agent's id is a new UUID at create.
        ["coder_devcontainer"] = new(
        [
            Id(),
            Required("agent_id", CtyType.String),
            Required("workspace_folder", CtyType.String) with { Check = Checks.NotEmpty("workspace_folder") },
            Optional("config_path", CtyType.String),
            Computed("subagent_id", CtyType.String),
        ]),
        ["coder_env"] = new(
        [
            Id(),
            Required("agent_id", CtyType.String),
            Required("name", CtyType.String) with { Check = Checks.Matches("name", EnvironmentName(), "must be a valid environment variable name") },
            Optional("value", CtyType.String),
            Optional("merge_strategy", CtyType.String, "replace") with { Check = Checks.OneOf("merge_strategy", "replace", "append", "prepend", "error") },
        ]),
        ["coder_metadata"] = new(
            [
                Id(),
                Required("resource_id", CtyType.String),
                Optional("hide", CtyType.Bool),
                Optional("icon", CtyType.String) with { Check = Checks.Url },
                Optional("daily_cost", CtyType.Number),
            ],
            [
                new NestedBlock("item", new SchemaBlock(
                [
                    Required("key", CtyType.String),
                    Optional("value", CtyType.String),
                    Optional("sensitive", CtyType.Bool, false),
                    Computed("is_null", CtyType.Bool),
                ]), BlockNesting.List),
            ]),
    };

    public static readonly IReadOnlyDictionary<string, SchemaBlock> DataSources = new Dictionary<string, SchemaBlock>(StringComparer.Ordinal)
    {
        ["coder_parameter"] = Parameter(),
        ["coder_workspace"] = new(
        [
            Computed("access_url", CtyType.String),
            Computed("access_port", CtyType.Number),
            Computed("prebuild_count", CtyType.Number),
            Computed("start_count", CtyType.Number),
            Computed("transition", CtyType.String),
            Computed("id", CtyType.String),
            Computed("is_prebuild", CtyType.Bool),
            Computed("is_prebuild_claim", CtyType.Bool),
            Computed("name", CtyType.String),
            Computed("template_id", CtyType.String),
            Computed("template_name", CtyType.String),
            Computed("template_version", CtyType.String),
        ]),
        ["coder_workspace_owner"] = new(
        [
            Computed("id", CtyType.String),
            Computed("name", CtyType.String),
            Computed("full_name", CtyType.String),
            Computed("email", CtyType.String),
            Computed("ssh_public_key", CtyType.String),
            Computed("ssh_private_key", CtyType.String) with { Sensitive = true },
            Computed("groups", CtyType.ListOf(CtyType.String)),
            Computed("session_token", CtyType.String) with { Sensitive = true },
            Computed("oidc_access_token", CtyType.String) with { Sensitive = true },
            Computed("login_type", CtyType.String),
            Computed("rbac_roles", CtyType.ListOf(new CtyObject(new SortedDictionary<string, CtyType>(StringComparer.Ordinal) { ["name"] = CtyType.String, ["org_id"] = CtyType.String }))),
        ]),
        ["coder_provisioner"] = new([Id(), Computed("os", CtyType.String), Computed("arch", CtyType.String)]),
        ["coder_workspace_tags"] = new([Id(), Optional("tags", CtyType.MapOf(CtyType.String))]),
        ["coder_workspace_preset"] = Preset(),
        ["coder_external_auth"] = new(
        [
            Required("id", CtyType.String),
            Computed("access_token", CtyType.String) with { Sensitive = true },
            Optional("optional", CtyType.Bool),
        ]),
        ["coder_script_order"] = ScriptOrder(),
    };

    /// <summary>SDKv2's ConflictsWith at the top level of a resource: attribute → attributes it cannot be set with.</summary>
    public static readonly IReadOnlyDictionary<string, (string Attribute, string[] ConflictsWith)[]> Conflicts = new Dictionary<string, (string, string[])[]>(StringComparer.Ordinal)
    {
        ["coder_app"] =
        [
            ("command", ["url", "subdomain"]),
            ("url", ["command"]),
            ("external", ["healthcheck", "command", "subdomain", "share"]),
            ("healthcheck", ["command"]),
        ],
    };

    private static SchemaBlock Agent() => new(
        [
            Id(),
            Optional("api_key_scope", CtyType.String, "all") with { Check = Checks.OneOf("api_key_scope", "all", "no_user_data") },
            Computed("init_script", CtyType.String),
            Required("arch", CtyType.String) with { Check = Checks.OneOf("arch", "amd64", "armv7", "arm64") },
            Optional("auth", CtyType.String, "token") with { Check = Checks.OneOf("auth", "token", "google-instance-identity", "aws-instance-identity", "azure-instance-identity") },
            Optional("dir", CtyType.String) with { Deprecated = true },
            Optional("env", CtyType.MapOf(CtyType.String)),
            Required("os", CtyType.String) with { Check = Checks.OneOf("os", "linux", "darwin", "windows") },
            Optional("startup_script", CtyType.String),
            Optional("shutdown_script", CtyType.String),
            Computed("token", CtyType.String) with { Sensitive = true },
            Optional("connection_timeout", CtyType.Number, 120m) with { Check = Checks.AtLeast("connection_timeout", 0) },
            Optional("troubleshooting_url", CtyType.String),
            Optional("motd_file", CtyType.String),
            Optional("startup_script_behavior", CtyType.String, "non-blocking") with { Check = Checks.OneOf("startup_script_behavior", "blocking", "non-blocking") },
            Optional("order", CtyType.Number),
        ],
        [
            new NestedBlock("metadata", new SchemaBlock(
            [
                Required("key", CtyType.String),
                Optional("display_name", CtyType.String),
                Required("script", CtyType.String),
                Optional("timeout", CtyType.Number),
                Required("interval", CtyType.Number),
                Optional("order", CtyType.Number),
            ]), BlockNesting.List),
            new NestedBlock("display_apps", new SchemaBlock(
            [
                Optional("vscode", CtyType.Bool, true),
                Optional("vscode_insiders", CtyType.Bool, false),
                Optional("web_terminal", CtyType.Bool, true),
                Optional("port_forwarding_helper", CtyType.Bool, true),
                Optional("ssh_helper", CtyType.Bool, true),
            ]), BlockNesting.Set) { MaxItems = 1, Computed = true },
            new NestedBlock("resources_monitoring", new SchemaBlock([],
            [
                new NestedBlock("memory", new SchemaBlock(
                [
                    Required("enabled", CtyType.Bool),
                    Required("threshold", CtyType.Number) with { Check = Checks.Between("threshold", 0, 100) },
                ]), BlockNesting.Set) { MaxItems = 1 },
                new NestedBlock("volume", new SchemaBlock(
                [
                    Required("path", CtyType.String) with { Check = VolumePath },
                    Required("enabled", CtyType.Bool),
                    Required("threshold", CtyType.Number) with { Check = Checks.Between("threshold", 0, 100) },
                ]), BlockNesting.Set),
            ]), BlockNesting.Set) { MaxItems = 1 },
        ]);

    private static SchemaBlock App() => new(
        [
            Id(),
            Required("agent_id", CtyType.String),
            Optional("command", CtyType.String),
            Optional("icon", CtyType.String) with { Check = Checks.Url },
            Required("slug", CtyType.String) with
            {
                Check = value => AppSlug().IsMatch((string)value) ? null
                    : $"invalid \"coder_app\" slug, must be a valid hostname ({GoFormat.Quote(AppSlug().ToString())}, cannot contain two consecutive hyphens or start/end with a hyphen): {GoFormat.Quote((string)value)}",
            },
            Optional("display_name", CtyType.String) with { Check = value => ((string)value).Length > 64 ? "display name is too long (max 64 characters)" : null },
            Optional("subdomain", CtyType.Bool),
            Optional("share", CtyType.String, "owner") with
            {
                Check = value => (string)value is "owner" or "authenticated" or "public" ? null
                    : $"invalid app share {GoFormat.Quote((string)value)}, must be one of \"owner\", \"authenticated\", \"public\"",
            },
            Optional("url", CtyType.String),
            Optional("external", CtyType.Bool, false),
            Optional("group", CtyType.String) with { Check = value => ((string)value).Length > 64 ? "group name is too long (max 64 characters)" : null },
            Optional("order", CtyType.Number),
            Optional("hidden", CtyType.Bool, false),
            Optional("open_in", CtyType.String, "slim-window") with
            {
                Check = value => (string)value is "tab" or "slim-window" ? null
                    : $"invalid \"coder_app\" open_in value, must be one of \"tab\", \"slim-window\": {GoFormat.Quote((string)value)}",
            },
            Optional("tooltip", CtyType.String) with { Check = value => ((string)value).Length > 2048 ? "tooltip is too long (max 2048 characters)" : null },
        ],
        [
            new NestedBlock("healthcheck", new SchemaBlock(
            [
                Required("url", CtyType.String),
                Required("interval", CtyType.Number),
                Required("threshold", CtyType.Number),
            ]), BlockNesting.Set) { MaxItems = 1 },
        ]);

    private static SchemaBlock Script() => new(
    [
        Id(),
        Required("agent_id", CtyType.String),
        Required("display_name", CtyType.String),
        Optional("log_path", CtyType.String),
        Optional("icon", CtyType.String),
        Required("script", CtyType.String),
        Optional("cron", CtyType.String),
        Optional("start_blocks_login", CtyType.Bool, false),
        Optional("run_on_start", CtyType.Bool, false),
        Optional("run_on_stop", CtyType.Bool, false),
        Optional("timeout", CtyType.Number, 0m) with { Check = Checks.AtLeast("timeout", 1) },
    ]);

    /// <summary>
    /// provider/script_order.go as released in v2.20.0: rules of Terraform address selectors, which the provider does
    /// not check beyond being non-empty strings (Coder resolves them at import).
    /// </summary>
    private static SchemaBlock ScriptOrder() => new(
        [Id()],
        [
            new NestedBlock("rule", new SchemaBlock(
            [
                Required("run", CtyType.ListOf(CtyType.String)) with { Check = Checks.NonEmptyStrings("run", minimum: 1) },
                Required("after", CtyType.ListOf(CtyType.String)) with { Check = Checks.NonEmptyStrings("after", minimum: 1) },
                Optional("requires", CtyType.String, "success") with { Check = Checks.OneOf("requires", "success", "completion") },
                Optional("phase", CtyType.String) with { Check = Checks.OneOf("phase", "start", "stop") },
            ]), BlockNesting.List) { MinItems = 1 },
        ]);

    private static SchemaBlock Parameter() => new(
        [
            Id(),
            Computed("value", CtyType.String),
            Required("name", CtyType.String),
            Optional("display_name", CtyType.String),
            Optional("description", CtyType.String),
            Optional("type", CtyType.String, "string") with { Check = Checks.OneOf("type", ParameterValidation.OptionTypes) },
            Optional("form_type", CtyType.String, "") with { Check = Checks.OneOf("form_type", ParameterValidation.FormTypes) },
            Optional("styling", CtyType.String, "{}"),
            Optional("mutable", CtyType.Bool, false),
            Optional("default", CtyType.String),
            Optional("icon", CtyType.String) with { Check = Checks.Url },
            Computed("optional", CtyType.Bool),
            Optional("order", CtyType.Number),
            Optional("ephemeral", CtyType.Bool, false),
        ],
        [
            new NestedBlock("option", new SchemaBlock(
            [
                Required("name", CtyType.String),
                Optional("description", CtyType.String),
                Required("value", CtyType.String),
                Optional("icon", CtyType.String) with { Check = Checks.Url },
            ]), BlockNesting.List),
            new NestedBlock("validation", new SchemaBlock(
            [
                Optional("min", CtyType.Number),
                Computed("min_disabled", CtyType.Bool),
                Optional("max", CtyType.Number),
                Computed("max_disabled", CtyType.Bool),
                Optional("monotonic", CtyType.String),
                Optional("regex", CtyType.String),
                Optional("error", CtyType.String),
            ]), BlockNesting.List) { MaxItems = 1 },
        ]);

    private static SchemaBlock Preset() => new(
        [
            Computed("id", CtyType.String),
            Required("name", CtyType.String) with { Check = Checks.NotEmpty("name") },
            Optional("description", CtyType.String) with { Check = Checks.LengthBetween("description", 0, 128) },
            Optional("icon", CtyType.String) with { Check = value => Checks.Url(value) ?? Checks.LengthBetween("icon", 0, 256)(value) },
            Optional("default", CtyType.Bool, false),
            Optional("parameters", CtyType.MapOf(CtyType.String)),
        ],
        [
            new NestedBlock("prebuilds", new SchemaBlock(
                [Required("instances", CtyType.Number) with { Check = Checks.AtLeast("instances", 0) }],
                [
                    new NestedBlock("expiration_policy", new SchemaBlock(
                    [
                        Required("ttl", CtyType.Number) with
                        {
                            Check = value => (decimal)value == 0 || ((decimal)value >= 3600 && (decimal)value <= 31536000) ? null
                                : $"\"ttl\" must be 0 or between 3600 and 31536000, got {Checks.Number(value)}",
                        },
                    ]), BlockNesting.Set) { MaxItems = 1 },
                    new NestedBlock("scheduling", new SchemaBlock(
                        [Required("timezone", CtyType.String)],
                        [
                            new NestedBlock("schedule", new SchemaBlock(
                            [
                                Required("cron", CtyType.String),
                                Required("instances", CtyType.Number),
                            ]), BlockNesting.List) { MinItems = 1 },
                        ]), BlockNesting.List) { MaxItems = 1 },
                ]), BlockNesting.Set) { MaxItems = 1 },
        ]);

    private static string? VolumePath(object value) => (string)value switch
    {
        "" => "volume path must not be empty",
        var path when !path.StartsWith('/') => "volume path must be an absolute path",
        _ => null,
    };

    private static SchemaAttribute Id() => new("id", CtyType.String) { Optional = true, Computed = true };

    private static SchemaAttribute Required(string name, CtyType type) => new(name, type) { Required = true };

    private static SchemaAttribute Optional(string name, CtyType type, object? defaultValue = null) => new(name, type) { Optional = true, Default = defaultValue };

    private static SchemaAttribute Computed(string name, CtyType type) => new(name, type) { Computed = true };

    [GeneratedRegex("^[a-z0-9](-?[a-z0-9])*$")]
    private static partial Regex AppSlug();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex EnvironmentName();
}
