using System.Collections;

using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.Execution;

namespace Provisioning.Terraform.Tests.Execution;

public sealed class TerraformEnvironmentTests
{
    [Fact]
    public void Build_HostEnvironment_RemovesDaemonSecretsAndListedVariables()
    {
        var options = new TerraformOptions { CacheDirectory = "/var/cache/provisioning" };
        options.StripEnvironmentVariables.Add("VAULT_*");
        options.StripEnvironmentVariables.Add("EXACT_NAME");
        var host = new Hashtable
        {
            ["PATH"] = "/usr/bin",
            ["PROVISIONING_PROVISIONER_KEY"] = "key",
            ["PROVISIONING_PSK"] = "psk",
            ["VAULT_TOKEN"] = "v",
            ["EXACT_NAME"] = "x",
            ["EXACT_NAME_LONGER"] = "kept",
        };

        var environment = TerraformEnvironment.Build(options, host, new Metadata(), [], [], cliConfigFile: null);

        Assert.Null(environment["PROVISIONING_PROVISIONER_KEY"]);
        Assert.Null(environment["PROVISIONING_PSK"]);
        Assert.Null(environment["VAULT_TOKEN"]);
        Assert.Null(environment["EXACT_NAME"]);
        Assert.False(environment.ContainsKey("EXACT_NAME_LONGER"));
        Assert.False(environment.ContainsKey("PATH"));
        Assert.Equal("/var/cache/provisioning/plugins", environment["TF_PLUGIN_CACHE_DIR"]);
        Assert.Equal("1", environment["TF_IN_AUTOMATION"]);
        Assert.Equal("1", environment["CHECKPOINT_DISABLE"]);
        Assert.False(environment.ContainsKey("TF_CLI_CONFIG_FILE"));
        Assert.False(environment.ContainsKey("TF_LOG"));
    }

    [Theory]
    [InlineData("debug", "JSON")]
    [InlineData("trace", "JSON")]
    [InlineData("info", null)]
    [InlineData("", null)]
    public void Build_LogLevel_SetsTfLogOnlyForDebugAndTrace(string level, string? expected)
    {
        var environment = TerraformEnvironment.Build(
            new TerraformOptions(), new Hashtable(), new Metadata(), [], [], cliConfigFile: null, TerraformEnvironment.ParseLogThreshold(level));

        Assert.Equal(expected, environment.GetValueOrDefault("TF_LOG"));
    }

    [Fact]
    public void Build_ImportWithoutWorkspace_LeavesTfVarWorkspaceVariablesUnsetSoDefaultsApply()
    {
        var host = new Hashtable { ["TF_VAR_workspace_name"] = "from-the-host" };

        var environment = TerraformEnvironment.Build(new TerraformOptions(), host, new Metadata { WorkspaceTransition = WorkspaceTransition.Start }, [], [], cliConfigFile: null);

        Assert.Null(environment["TF_VAR_workspace_name"]);
        Assert.Null(environment["TF_VAR_workspace_owner"]);
        Assert.Null(environment["TF_VAR_workspace_id"]);
        Assert.Equal("start", environment["TF_VAR_workspace_transition"]);
    }

    [Fact]
    public void Build_Metadata_SetsCoderAndTfVarVariables()
    {
        var metadata = new Metadata
        {
            WorkspaceTransition = WorkspaceTransition.Destroy,
            WorkspaceName = "ws",
            WorkspaceOwner = "bob",
            WorkspaceId = "id-1",
            WorkspaceBuildNumber = 12,
            IsPrebuild = true,
        };
        metadata.WorkspaceOwnerGroups.Add("devs");
        metadata.WorkspaceOwnerRbacRoles.Add(new Role { Name = "member", OrgId = "org" });

        var environment = TerraformEnvironment.Build(
            new TerraformOptions(),
            new Hashtable(),
            metadata,
            [new RichParameterValue { Name = "abc", Value = "v" }],
            [new ExternalAuthProvider { Id = "github", AccessToken = "gh-token" }],
            cliConfigFile: "/etc/terraformrc");

        Assert.Equal("destroy", environment["CODER_WORKSPACE_TRANSITION"]);
        Assert.Equal("destroy", environment["TF_VAR_workspace_transition"]);
        Assert.Equal("ws", environment["TF_VAR_workspace_name"]);
        Assert.Equal("bob", environment["TF_VAR_workspace_owner"]);
        Assert.Equal("id-1", environment["TF_VAR_workspace_id"]);
        Assert.Equal("12", environment["TF_VAR_workspace_build_number"]);
        Assert.Equal("""["devs"]""", environment["CODER_WORKSPACE_OWNER_GROUPS"]);
        Assert.Equal("""[{"name":"member","org_id":"org"}]""", environment["CODER_WORKSPACE_OWNER_RBAC_ROLES"]);
        Assert.Equal("true", environment["CODER_WORKSPACE_IS_PREBUILD"]);
        // sha256("abc") is the NIST test vector.
        Assert.Equal("v", environment["CODER_PARAMETER_ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]);
        Assert.Equal("gh-token", environment["CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github"]);
        Assert.Equal("/etc/terraformrc", environment["TF_CLI_CONFIG_FILE"]);
    }

    [Fact]
    public void Build_PreviousParameterValues_SetsCoderParameterPreviousVariables()
    {
        var environment = TerraformEnvironment.Build(
            new TerraformOptions(),
            new Hashtable(),
            new Metadata(),
            [new RichParameterValue { Name = "abc", Value = "5" }],
            [],
            cliConfigFile: null,
            previousParameters: [new RichParameterValue { Name = "abc", Value = "3" }]);

        // The coder provider's names: CODER_PARAMETER_PREVIOUS_ + hex sha256(name); sha256("abc") is the NIST test vector.
        Assert.Equal("5", environment["CODER_PARAMETER_ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]);
        Assert.Equal("3", environment["CODER_PARAMETER_PREVIOUS_ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]);
    }

    [Fact]
    public void Build_FirstBuild_SetsNoPreviousParameterVariables()
    {
        var environment = TerraformEnvironment.Build(
            new TerraformOptions(), new Hashtable(), new Metadata(), [new RichParameterValue { Name = "abc", Value = "5" }], [], cliConfigFile: null);

        Assert.DoesNotContain(environment.Keys, name => name.StartsWith("CODER_PARAMETER_PREVIOUS_", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_RunningAgentTokenAndAgentScripts_UseTheNamesCodersProvisionerSets()
    {
        var environment = TerraformEnvironment.Build(
            new TerraformOptions(), new Hashtable(), new Metadata { RunningWorkspaceAgentToken = "kept" }, [], [], cliConfigFile: null);

        // sha256("") is the FIPS 180-2 empty-message vector: the provider's RunningAgentTokenEnvironmentVariable("").
        Assert.Equal("kept", environment["CODER_RUNNING_WORKSPACE_AGENT_TOKEN_e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]);
        Assert.DoesNotContain("CODER_RUNNING_WORKSPACE_AGENT_TOKEN", environment.Keys);
        Assert.Equal(
            ["CODER_AGENT_SCRIPT_darwin_amd64", "CODER_AGENT_SCRIPT_darwin_arm64", "CODER_AGENT_SCRIPT_linux_amd64", "CODER_AGENT_SCRIPT_linux_arm64",
             "CODER_AGENT_SCRIPT_linux_armv7", "CODER_AGENT_SCRIPT_windows_amd64", "CODER_AGENT_SCRIPT_windows_arm64"],
            environment.Keys.Where(name => name.StartsWith("CODER_AGENT_SCRIPT_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Contains("bin/coder-linux-armv7\"", environment["CODER_AGENT_SCRIPT_linux_armv7"], StringComparison.Ordinal);
        Assert.Contains("bin/coder-darwin-arm64\"", environment["CODER_AGENT_SCRIPT_darwin_arm64"], StringComparison.Ordinal);
        Assert.Contains("bin/coder-windows-arm64.exe", environment["CODER_AGENT_SCRIPT_windows_arm64"], StringComparison.Ordinal);
        Assert.DoesNotContain("${ARCH}", environment["CODER_AGENT_SCRIPT_linux_amd64"], StringComparison.Ordinal);
        Assert.Contains("${ACCESS_URL}", environment["CODER_AGENT_SCRIPT_linux_amd64"], StringComparison.Ordinal);
    }

    [Fact]
    public void DescribeInherited_TfVariables_ShowsSafeValuesAndRedactsTheRest()
    {
        var host = new Hashtable
        {
            ["TF_LOG"] = "DEBUG",
            ["TF_VAR_db_password"] = "hunter2",
            ["TF_TOKEN_app_terraform_io"] = "secret-token",
            ["TF_STRIPPED"] = "x",
            ["PATH"] = "/usr/bin",
        };

        var lines = TerraformEnvironment.DescribeInherited(host, ["TF_STRIPPED"]).ToList();

        Assert.Equal(
            [
                "terraform environment variable from the daemon: TF_LOG=DEBUG",
                "terraform environment variable from the daemon: TF_TOKEN_app_terraform_io=<value redacted>",
                "terraform environment variable from the daemon: TF_VAR_db_password=<value redacted>",
            ],
            lines);
    }
}
