using System.Text.Json;
using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.State;
using static Provisioning.Terraform.Tests.State.StateInput;

namespace Provisioning.Terraform.Tests.State;

public sealed class StateConverterTests
{
    private static readonly StateConverter Converter = new();

    private static object AgentValues(string id = "agent-id", string auth = "token", string token = "secret") =>
        new { id, auth, token, os = "linux", arch = "amd64" };

    [Fact]
    public void ConvertState_StateWithoutValues_GivesEmptyLists()
    {
        // Arrange
        var state = JsonSerializer.SerializeToElement(new { format_version = "1.0" });

        // Act
        var converted = Converter.ConvertState(state, "");

        // Assert
        Assert.Empty(converted.Resources);
        Assert.Empty(converted.Parameters);
        Assert.Empty(converted.ExternalAuthProviders);
        Assert.Empty(converted.Presets);
        Assert.False(converted.HasExternalAgents);
    }

    [Fact]
    public void ConvertPlan_PlanWithoutPlannedValues_GivesEmptyLists()
    {
        // Act
        var converted = Converter.ConvertPlan(JsonSerializer.SerializeToElement(new { format_version = "1.2" }), "digraph {}");

        // Assert
        Assert.Empty(converted.Resources);
        Assert.Empty(converted.Parameters);
    }

    [Fact]
    public void ConvertState_MalformedGraph_ThrowsParseGraph()
    {
        // Arrange
        var state = StateJson(Resource("null_resource.a"));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, "digraph { a -> "));

        // Assert
        Assert.StartsWith("parse graph: line 1", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertState_DependentsAtSameDistance_AttachesAgentToSmallestLabelOnly()
    {
        // Arrange: b and a both depend directly on the agent; c depends on it only through a.
        var state = StateJson(
            Resource("coder_agent.main", AgentValues()),
            Resource("null_resource.b"),
            Resource("null_resource.a"),
            Resource("null_resource.c"));
        var graph = Graph(
            ["coder_agent.main", "null_resource.a", "null_resource.b", "null_resource.c"],
            ("null_resource.b", "coder_agent.main"),
            ("null_resource.a", "coder_agent.main"),
            ("null_resource.c", "null_resource.a"));

        // Act
        var converted = Converter.ConvertState(state, graph);

        // Assert: resources come out in address order, the agent only on the nearest, smallest label.
        Assert.Equal(["a", "b", "c"], converted.Resources.Select(resource => resource.Name));
        var agent = Assert.Single(converted.Resources[0].Agents);
        Assert.Empty(converted.Resources[1].Agents);
        Assert.Empty(converted.Resources[2].Agents);
        Assert.Equal("main", agent.Name);
        Assert.Equal("secret", agent.Token);
        Assert.Equal("all", agent.ApiKeyScope);
        Assert.True(agent.DisplayApps.Vscode && agent.DisplayApps.WebTerminal && agent.DisplayApps.SshHelper && agent.DisplayApps.PortForwardingHelper);
        Assert.False(agent.DisplayApps.VscodeInsiders);
        Assert.NotNull(agent.ResourcesMonitoring);
    }

    [Fact]
    public void ConvertState_AgentOnCountedResource_AttachesToEveryInstanceOfTheLabel()
    {
        // Arrange
        var state = StateJson(
            Resource("coder_agent.main", AgentValues()),
            Resource("null_resource.vm[1]"),
            Resource("null_resource.vm[0]"));
        var graph = Graph(["coder_agent.main", "null_resource.vm"], ("null_resource.vm", "coder_agent.main"));

        // Act
        var converted = Converter.ConvertState(state, graph);

        // Assert
        Assert.Equal(2, converted.Resources.Count);
        Assert.All(converted.Resources, resource => Assert.Equal("main", Assert.Single(resource.Agents).Name));
    }

    [Theory]
    [InlineData("my_agent", "agent name \"my_agent\" contains underscores which are no longer supported, please use hyphens instead (regex: \"(?i)^[a-z0-9](-?[a-z0-9])*$\")")]
    [InlineData("dev--1", "agent name \"dev--1\" does not match regex \"(?i)^[a-z0-9](-?[a-z0-9])*$\"")]
    [InlineData("-dev", "agent name \"-dev\" does not match regex \"(?i)^[a-z0-9](-?[a-z0-9])*$\"")]
    [InlineData("", "agent name cannot be empty")]
    public void ConvertState_InvalidAgentName_ThrowsTheReferenceMessage(string name, string expected)
    {
        // Arrange
        var agent = Resource("coder_agent.x", AgentValues());
        agent["name"] = name;
        var state = StateJson(agent);

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, Graph(["coder_agent.x"])));

        // Assert
        Assert.Equal(expected, exception.Message);
    }

    [Fact]
    public void ConvertState_AgentNamesDifferingOnlyInCase_ThrowsDuplicateAgentName()
    {
        // Arrange
        var state = StateJson(Resource("coder_agent.dev", AgentValues("1")), Resource("coder_agent.Dev", AgentValues("2")));

        // Act
        var exception = Assert.Throws<StateConversionException>(
            () => Converter.ConvertState(state, Graph(["coder_agent.dev", "coder_agent.Dev"])));

        // Assert: "Dev" sorts first by address, so "dev" is the duplicate.
        Assert.Equal("duplicate agent name: dev", exception.Message);
    }

    [Fact]
    public void ConvertState_AgentMissingFromGraph_ThrowsCouldNotFindNode()
    {
        // Arrange
        var state = StateJson(Resource("coder_agent.main", AgentValues()));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, Graph(["null_resource.a"])));

        // Assert
        Assert.Equal("couldn't find node on graph: \"coder_agent.main\"", exception.Message);
    }

    [Fact]
    public void ConvertState_AgentAttributeOfWrongKind_ThrowsDecodeError()
    {
        // Arrange
        var state = StateJson(Resource("coder_agent.main", new { id = "a", auth = "token", connection_timeout = "soon" }));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, Graph(["coder_agent.main"])));

        // Assert
        Assert.StartsWith("decode agent attributes: 'connection_timeout' expected type 'int'", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Web", "app slug \"Web\" does not match regex \"^[a-z0-9](-?[a-z0-9])*$\"")]
    [InlineData("web_ui", "app slug \"web_ui\" does not match regex \"^[a-z0-9](-?[a-z0-9])*$\"")]
    public void ConvertState_InvalidAppSlug_ThrowsTheReferenceMessage(string slug, string expected)
    {
        // Arrange
        var state = StateJson(Resource("coder_app.web", new { agent_id = "agent-id", slug }));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, ""));

        // Assert
        Assert.Equal(expected, exception.Message);
    }

    [Fact]
    public void ConvertState_TwoAppsWithOneSlug_ThrowsDuplicateAppSlug()
    {
        // Arrange
        var state = StateJson(
            Resource("coder_app.one", new { agent_id = "agent-id", slug = "web" }),
            Resource("coder_app.two", new { agent_id = "agent-id", slug = "web" }));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, ""));

        // Assert
        Assert.Equal("duplicate app slug, they must be unique per template: \"web\"", exception.Message);
    }

    [Fact]
    public void ConvertState_AppEnvAndScriptsWithAgentId_AttachToThatAgent()
    {
        // Arrange
        var state = StateJson(
            Resource("coder_agent.main", AgentValues()),
            Resource("null_resource.vm"),
            Resource("coder_app.code", new
            {
                id = "app-1", agent_id = "agent-id", name = "Code Server", url = "http://localhost:8080", share = "Public",
                open_in = "tab", subdomain = true, hidden = true, order = 3, group = "IDEs", tooltip = "tip", external = false,
                healthcheck = new[] { new { url = "http://localhost:8080/healthz", interval = 5, threshold = 6 } },
            }),
            Resource("coder_app.other", new { agent_id = "someone-else" }),
            Resource("coder_env.path", new { agent_id = "agent-id", name = "PATH", value = "/opt/bin", merge_strategy = "prepend" }),
            Resource("module.tools.coder_script.install", new { agent_id = "agent-id", display_name = "Install", script = "make", run_on_start = true, timeout = 60, cron = "" }));
        var graph = Graph(["coder_agent.main", "null_resource.vm"], ("null_resource.vm", "coder_agent.main"));

        // Act
        var converted = Converter.ConvertState(state, graph);

        // Assert: coder_env is a resource of its own too; coder_app and coder_script are not.
        Assert.Equal(["coder_env.path", "null_resource.vm"], converted.Resources.Select(resource => $"{resource.Type}.{resource.Name}"));
        var agent = Assert.Single(converted.Resources[1].Agents);
        var app = Assert.Single(agent.Apps);
        Assert.Equal(
            new App
            {
                Id = "app-1", Slug = "code", DisplayName = "Code Server", Url = "http://localhost:8080", SharingLevel = AppSharingLevel.Public,
                OpenIn = AppOpenIn.Tab, Subdomain = true, Hidden = true, Order = 3, Group = "IDEs", Tooltip = "tip",
                Healthcheck = new Healthcheck { Url = "http://localhost:8080/healthz", Interval = 5, Threshold = 6 },
            },
            app);
        Assert.Equal(new Env { Name = "PATH", Value = "/opt/bin", MergeStrategy = "prepend" }, Assert.Single(agent.ExtraEnvs));
        var script = Assert.Single(agent.Scripts);
        Assert.Equal("module.tools.coder_script.install", script.ResourceAddress);
        Assert.Equal(60, script.TimeoutSeconds);
        Assert.True(script.RunOnStart);
    }

    [Fact]
    public void ConvertPlan_UnknownIds_AttachByRootModuleGraphEdge()
    {
        // Arrange: in a plan the ids are unknown (absent); only the graph tells which agent an env belongs to.
        var planned = new[]
        {
            Resource("coder_agent.main", new { auth = "token", os = "linux" }),
            Resource("null_resource.vm"),
            Resource("coder_env.root", new { name = "ROOT", value = "1" }),
            Resource("module.m.coder_env.nested", new { name = "NESTED", value = "2" }),
            Resource("coder_app.web", new { slug = "web" }),
        };
        var graph = Graph(
            ["coder_agent.main", "null_resource.vm", "coder_env.root", "module.m.coder_env.nested", "coder_app.web"],
            ("null_resource.vm", "coder_agent.main"),
            ("coder_env.root", "coder_agent.main"),
            ("module.m.coder_env.nested", "coder_agent.main"),
            ("coder_app.web", "coder_agent.main"));

        // Act
        var converted = Converter.ConvertPlan(PlanJson(planned), graph);

        // Assert: module resources never match by edge (as in the reference); apps get a fresh id.
        var agent = converted.Resources.Single(resource => resource.Type == "null_resource").Agents.Single();
        Assert.Equal("ROOT", Assert.Single(agent.ExtraEnvs).Name);
        Assert.True(Guid.TryParse(Assert.Single(agent.Apps).Id, out _));
        Assert.Equal(Agent.AuthOneofCase.Token, agent.AuthCase);
        Assert.Equal("", agent.Token);
    }

    [Fact]
    public void ConvertState_TwoMetadataOnOneResource_ThrowsDuplicateMetadataResource()
    {
        // Arrange
        var state = StateJson(
            Resource("null_resource.about"),
            Resource("coder_metadata.one", new { resource_id = "x" }),
            Resource("coder_metadata.two", new { resource_id = "x" }));
        var graph = Graph(
            ["null_resource.about", "coder_metadata.one", "coder_metadata.two"],
            ("coder_metadata.one", "null_resource.about"),
            ("coder_metadata.two", "null_resource.about"));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, graph));

        // Assert
        Assert.Equal("duplicate metadata resource: null_resource.about", exception.Message);
    }

    [Fact]
    public void ConvertState_Metadata_DecoratesTheResourceItDependsOn()
    {
        // Arrange
        var state = StateJson(
            Resource("null_resource.about"),
            Resource("coder_metadata.about", new
            {
                resource_id = "x", hide = true, icon = "/icon/server.svg", daily_cost = 29,
                item = new object[]
                {
                    new { key = "hello", value = "world", sensitive = false, is_null = false },
                    new { key = "null", value = (string?)null, sensitive = false, is_null = true },
                    new { key = "secret", value = "squirrel", sensitive = true, is_null = false },
                },
            }));
        var graph = Graph(["null_resource.about", "coder_metadata.about"], ("coder_metadata.about", "null_resource.about"));

        // Act
        var resource = Assert.Single(Converter.ConvertState(state, graph).Resources);

        // Assert
        Assert.True(resource.Hide);
        Assert.Equal("/icon/server.svg", resource.Icon);
        Assert.Equal(29, resource.DailyCost);
        Assert.Equal(
            [
                new Resource.Types.Metadata { Key = "hello", Value = "world" },
                new Resource.Types.Metadata { Key = "null", IsNull = true },
                new Resource.Types.Metadata { Key = "secret", Value = "squirrel", Sensitive = true },
            ],
            resource.Metadata);
    }

    [Theory]
    [InlineData(new[] { "a", "a", "b" }, "coder_parameter names must be unique but \"a\" appears multiple times")]
    [InlineData(new[] { "a", "b", "a", "b", "a" }, "coder_parameter names must be unique but \"a\" and \"b\" appear multiple times")]
    [InlineData(new[] { "x", "y", "z", "x", "y", "z" }, "coder_parameter names must be unique but \"x\", \"y\" and \"z\" appear multiple times")]
    public void ConvertState_DuplicateParameterNames_ThrowsListingEachOnce(string[] names, string expected)
    {
        // Arrange
        var state = StateJson([.. names.Select((name, i) => Resource($"data.coder_parameter.p{i}", new { name, type = "string", form_type = "input" }))]);

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, ""));

        // Assert
        Assert.Equal(expected, exception.Message);
    }

    [Fact]
    public void ConvertState_Parameters_ComeChildModulesFirstWithValidation()
    {
        // Arrange
        var root = new[]
        {
            Resource("data.coder_parameter.legacy_none", new { name = "legacy_none", type = "number", validation = new[] { new { min = 0, max = 0 } } }),
            Resource("data.coder_parameter.legacy_both", new { name = "legacy_both", type = "number", validation = new[] { new { min = 3, max = 0 } } }),
            Resource("data.coder_parameter.max_only", new
            {
                name = "max_only", type = "number", optional = true, mutable = true, ephemeral = true, order = 2,
                @default = "4", form_type = "slider", display_name = "Max only", icon = "/i.svg",
                validation = new[] { new { min = 0, min_disabled = true, max = 6, max_disabled = false, monotonic = "increasing", regex = "", error = "" } },
            }),
            Resource("data.coder_parameter.choice", new
            {
                name = "choice", type = "string", form_type = "radio",
                option = new[] { new { name = "First", value = "first", description = "d", icon = "" } },
            }),
        };
        var child = Module([Resource("module.m.data.coder_parameter.from_module", new { name = "from_module", type = "string" })], address: "module.m");
        var state = StateJson(root, [child]);

        // Act
        var parameters = Converter.ConvertState(state, "").Parameters;

        // Assert
        Assert.Equal(["from_module", "legacy_none", "legacy_both", "max_only", "choice"], parameters.Select(parameter => parameter.Name));
        Assert.True(parameters[0].Required);
        Assert.False(parameters[1].HasValidationMin || parameters[1].HasValidationMax);
        Assert.Equal((3, 0), (parameters[2].ValidationMin, parameters[2].ValidationMax));
        Assert.Equal(
            new RichParameter
            {
                Name = "max_only", Type = "number", Mutable = true, Ephemeral = true, Order = 2, DefaultValue = "4", Required = false,
                FormType = ParameterFormType.Slider, DisplayName = "Max only", Icon = "/i.svg", ValidationMax = 6, ValidationMonotonic = "increasing",
            },
            parameters[3]);
        Assert.Equal(ParameterFormType.Radio, parameters[4].FormType);
        Assert.Equal(new RichParameterOption { Name = "First", Value = "first", Description = "d" }, Assert.Single(parameters[4].Options));
    }

    [Fact]
    public void ConvertState_UnknownFormType_ThrowsNamingTheParameter()
    {
        // Arrange
        var state = StateJson(Resource("data.coder_parameter.p", new { name = "p", form_type = "wheel" }));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, ""));

        // Assert
        Assert.StartsWith("decode form_type for coder_parameter.p: unsupported form type \"wheel\"", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertState_Presets_ConvertWithSortedParametersAndPrebuild()
    {
        // Arrange
        var state = StateJson(
            Resource("data.coder_workspace_preset.small", new
            {
                name = "Small", @default = true, parameters = new Dictionary<string, string> { ["size"] = "s", ["region"] = "eu" },
                prebuilds = new[] { new { instances = 2 } },
            }),
            Resource("data.coder_workspace_preset.large", new { name = "Large", parameters = new Dictionary<string, string>() }));

        // Act
        var presets = Converter.ConvertState(state, "").Presets;

        // Assert
        Assert.Equal(
            [
                new Preset
                {
                    Name = "Small", Default = true, Prebuild = new Prebuild { Instances = 2 },
                    Parameters = { new PresetParameter { Name = "region", Value = "eu" }, new PresetParameter { Name = "size", Value = "s" } },
                },
                new Preset { Name = "Large", Prebuild = new Prebuild() },
            ],
            presets);
    }

    [Fact]
    public void ConvertState_TwoDefaultPresets_Throws()
    {
        // Arrange
        var state = StateJson(
            Resource("data.coder_workspace_preset.a", new { name = "A", @default = true }),
            Resource("data.coder_workspace_preset.b", new { name = "B", @default = true }));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, ""));

        // Assert
        Assert.Equal("a maximum of 1 coder_workspace_preset can be marked as default, but 2 are set", exception.Message);
    }

    [Fact]
    public void ConvertState_ExternalAuth_SortsByIdAndPrefersCoderExternalAuthOverLegacy()
    {
        // Arrange
        var state = StateJson(
            Resource("data.coder_external_auth.z", new { id = "gitlab", optional = true }),
            Resource("data.coder_git_auth.legacy", new { id = "github", optional = true }),
            Resource("data.coder_external_auth.github", new { id = "github" }));

        // Act
        var providers = Converter.ConvertState(state, "").ExternalAuthProviders;

        // Assert
        Assert.Equal(
            [new ExternalAuthProviderResource { Id = "github" }, new ExternalAuthProviderResource { Id = "gitlab", Optional = true }],
            providers);
    }

    [Fact]
    public void ConvertState_ExternalAuthWithoutId_Throws()
    {
        // Arrange
        var state = StateJson(Resource("data.coder_external_auth.github", new { optional = true }));

        // Act
        var exception = Assert.Throws<StateConversionException>(() => Converter.ConvertState(state, ""));

        // Assert
        Assert.Equal("external auth id is not a string", exception.Message);
    }

    [Theory]
    [InlineData("google_compute_instance", "instance_id")]
    [InlineData("aws_instance", "id")]
    [InlineData("aws_spot_instance_request", "spot_instance_id")]
    [InlineData("azurerm_linux_virtual_machine", "virtual_machine_id")]
    public void ConvertState_InstanceIdentityAgentOnKnownCompute_TakesTheInstanceId(string type, string attribute)
    {
        // Arrange
        var state = StateJson(
            Resource("coder_agent.main", AgentValues(auth: "instance-identity")),
            Resource("coder_agent.tokened", AgentValues(id: "other", token: "t")),
            Resource($"{type}.dev", new Dictionary<string, string> { [attribute] = "instance-42" }));
        var graph = Graph(
            ["coder_agent.main", "coder_agent.tokened", $"{type}.dev"],
            ($"{type}.dev", "coder_agent.main"),
            ($"{type}.dev", "coder_agent.tokened"));

        // Act
        var agents = Assert.Single(Converter.ConvertState(state, graph).Resources).Agents;

        // Assert
        Assert.Equal("instance-42", agents.Single(agent => agent.Name == "main").InstanceId);
        Assert.Equal("t", agents.Single(agent => agent.Name == "tokened").Token);
    }

    [Fact]
    public void ConvertState_AgentInstance_SetsTheInstanceIdOfInstanceIdentityAgentsOnly()
    {
        // Arrange
        var state = StateJson(
            Resource("coder_agent.main", AgentValues(auth: "google-instance-identity")),
            Resource("coder_agent.tokened", AgentValues(id: "tokened-id")),
            Resource("coder_agent_instance.main", new { agent_id = "agent-id", instance_id = "example" }),
            Resource("coder_agent_instance.tokened", new { agent_id = "tokened-id", instance_id = "ignored" }),
            Resource("google_compute_instance.vm", new { instance_id = "not-used-when-given" }));
        var graph = Graph(
            ["coder_agent.main", "coder_agent.tokened", "google_compute_instance.vm"],
            ("google_compute_instance.vm", "coder_agent.main"),
            ("google_compute_instance.vm", "coder_agent.tokened"));

        // Act
        var agents = Converter.ConvertState(state, graph).Resources.Single(resource => resource.Name == "vm").Agents;

        // Assert
        Assert.Equal("example", agents.Single(agent => agent.Name == "main").InstanceId);
        Assert.Equal("secret", agents.Single(agent => agent.Name == "tokened").Token);
    }

    [Theory]
    [InlineData("google_compute_instance", "machine_type")]
    [InlineData("aws_instance", "instance_type")]
    [InlineData("azurerm_windows_virtual_machine", "size")]
    [InlineData("null_resource", "instance_type")]
    public void ConvertState_ComputeResource_ReportsItsInstanceType(string type, string attribute)
    {
        // Arrange
        var state = StateJson(Resource($"{type}.dev", new Dictionary<string, string> { [attribute] = "e2-small" }));

        // Act
        var resource = Assert.Single(Converter.ConvertState(state, Graph([$"{type}.dev"])).Resources);

        // Assert
        Assert.Equal(type == "null_resource" ? "" : "e2-small", resource.InstanceType);
    }

    [Theory]
    [InlineData("null_resource.a", "")]
    [InlineData("module.dev.null_resource.a[0]", "module.dev")]
    [InlineData("module.a[\"x\"].module.b[1].null_resource.c[\"k\"]", "module.a[\"x\"].module.b[1]")]
    [InlineData("module..null_resource.a", "invalid terraform address")]
    public void ConvertState_ResourceAddress_GivesModulePath(string address, string expected)
    {
        // Arrange
        var state = StateJson(Resource(address));

        // Act
        var resource = Assert.Single(Converter.ConvertState(state, "").Resources);

        // Assert
        Assert.Equal(expected, resource.ModulePath);
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("blocking", null, true)]
    [InlineData(null, false, true)]
    [InlineData(null, true, false)]
    public void ConvertState_LegacyStartupScript_BecomesAScript(string? behavior, bool? loginBeforeReady, bool blocksLogin)
    {
        // Arrange
        var values = new Dictionary<string, object?>
        {
            ["id"] = "a", ["auth"] = "token", ["startup_script"] = "echo hi", ["shutdown_script"] = "echo bye", ["api_key_scope"] = "no_user_data",
        };
        if (behavior is not null)
        {
            values["startup_script_behavior"] = behavior;
        }

        if (loginBeforeReady is not null)
        {
            values["login_before_ready"] = loginBeforeReady;
        }

        var state = StateJson(Resource("coder_agent.main", values), Resource("null_resource.vm"));
        var graph = Graph(["coder_agent.main", "null_resource.vm"], ("null_resource.vm", "coder_agent.main"));

        // Act
        var agent = Converter.ConvertState(state, graph).Resources.Single().Agents.Single();

        // Assert
        Assert.Equal("no_user_data", agent.ApiKeyScope);
        Assert.Equal(
            [
                new Script
                {
                    Icon = "/emojis/25b6-fe0f.png", LogPath = "coder-startup-script.log", DisplayName = "Startup Script",
                    Script_ = "echo hi", StartBlocksLogin = blocksLogin, RunOnStart = true,
                },
                new Script
                {
                    Icon = "/emojis/25c0.png", LogPath = "coder-shutdown-script.log", DisplayName = "Shutdown Script",
                    Script_ = "echo bye", RunOnStop = true,
                },
            ],
            agent.Scripts);
    }

    [Fact]
    public void ConvertState_ExternalAgentInGraph_SetsHasExternalAgentsAndIsAttachable()
    {
        // Arrange
        var state = StateJson(Resource("coder_agent.main", AgentValues()), Resource("coder_external_agent.main", new { agent_id = "agent-id" }));
        var graph = Graph(["coder_agent.main", "coder_external_agent.main"], ("coder_external_agent.main", "coder_agent.main"));

        // Act
        var converted = Converter.ConvertState(state, graph);

        // Assert
        Assert.True(converted.HasExternalAgents);
        Assert.Equal("main", Assert.Single(Assert.Single(converted.Resources).Agents).Name);
    }

    [Fact]
    public void ConvertPlan_DataSourcesInPriorState_AreRead()
    {
        // Arrange
        var plan = PlanJson(
            [Resource("null_resource.vm")],
            [Resource("data.coder_parameter.region", new { name = "region", type = "string" }), Resource("data.coder_external_auth.github", new { id = "github" })]);

        // Act
        var converted = Converter.ConvertPlan(plan, Graph(["null_resource.vm"]));

        // Assert
        Assert.Equal("region", Assert.Single(converted.Parameters).Name);
        Assert.Equal("github", Assert.Single(converted.ExternalAuthProviders).Id);
        Assert.Equal("vm", Assert.Single(converted.Resources).Name);
    }
}
