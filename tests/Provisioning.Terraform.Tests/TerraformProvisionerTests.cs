using System.Diagnostics;
using System.Text.Json;

using Google.Protobuf;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Tests;

[Collection(TerraformCollection.Name)]
public sealed class TerraformProvisionerTests(TerraformFixture fixture)
{
    private const string LifecycleTemplate = """
        variable "workspace_name" {
          type = string
        }

        variable "workspace_transition" {
          type = string
        }

        variable "greeting" {
          type        = string
          default     = "hello"
          description = "What the runner says."
        }

        resource "terraform_data" "home" {
          input            = "${var.workspace_name}-${var.workspace_transition}"
          triggers_replace = var.workspace_transition
        }

        module "extra" {
          source = "./modules/extra"
        }

        resource "terraform_data" "runner" {
          count = var.workspace_transition == "start" ? 1 : 0
          input = var.greeting

          provisioner "local-exec" {
            command = "echo runner says ${var.greeting} to ${var.workspace_name}"
          }
        }
        """;

    [Fact]
    public async Task Provisioner_StartStopDestroy_RoundTripsStateAndResources()
    {
        var provisioner = fixture.CreateProvisioner();
        var cancellationToken = TestContext.Current.CancellationToken;
        var files = new Dictionary<string, string>
        {
            ["main.tf"] = LifecycleTemplate,
            ["README.md"] = "# Lifecycle\n",
            ["modules/extra/main.tf"] = "resource \"terraform_data\" \"inner\" {}\n",
        };

        // Parse
        using (var parse = TestSession.Create(files))
        {
            var parsed = await provisioner.ParseAsync(parse.Session, new ParseRequest(), cancellationToken);
            Assert.Equal("", parsed.Error);
            Assert.Equal(["workspace_name", "workspace_transition", "greeting"], parsed.TemplateVariables.Select(v => v.Name));
            var greeting = parsed.TemplateVariables.Single(v => v.Name == "greeting");
            Assert.False(greeting.Required);
            Assert.Equal("What the runner says.", greeting.Description);
            Assert.Equal("# Lifecycle\n", parsed.Readme.ToStringUtf8());
        }

        // Start
        ByteString state;
        using (var start = TestSession.Create(files))
        {
            var stopwatch = Stopwatch.StartNew();
            var plan = await provisioner.PlanAsync(start.Session, PlanFor(WorkspaceTransition.Start, 1, ("greeting", "bonjour")), cancellationToken);
            TestContext.Current.TestOutputHelper?.WriteLine($"Plan (init, plan, show, graph) for start: {stopwatch.ElapsedMilliseconds} ms");
            Assert.True(plan.Error == "", plan.Error + "\n" + start.LogText);
            Assert.Contains(plan.Resources, r => r.Type == "terraform_data" && r.Name == "home");
            Assert.Contains(plan.Resources, r => r.Type == "terraform_data" && r.Name == "runner");
            Assert.Contains(plan.Timings, t => t.Stage == "init");
            Assert.Contains(plan.Timings, t => t.Stage == "plan");
            Assert.Contains(plan.Timings, t => t.Stage == "graph");
            var module = Assert.Single(plan.Modules);
            Assert.Equal(("extra", "./modules/extra"), (module.Key, module.Source));
            Assert.Empty(plan.ResourceReplacements);
            using (var planJson = JsonDocument.Parse(plan.Plan.ToStringUtf8()))
            {
                Assert.True(planJson.RootElement.TryGetProperty("resource_changes", out _));
            }

            stopwatch.Restart();
            var apply = await provisioner.ApplyAsync(start.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Start, 1) }, cancellationToken);
            TestContext.Current.TestOutputHelper?.WriteLine($"Apply (apply, show, graph) for start: {stopwatch.ElapsedMilliseconds} ms");
            Assert.True(apply.Error == "", apply.Error + "\n" + start.LogText);
            Assert.Contains(apply.Resources, r => r.Name == "home");
            Assert.Contains(apply.Resources, r => r.Name == "runner");
            Assert.Contains("runner says bonjour to dev-box", start.LogText, StringComparison.Ordinal);
            Assert.Contains(apply.Timings, t => t.Stage == "apply" && t.Resource == "terraform_data.home" && t.Action == "create" && t.State == TimingState.Completed);
            Assert.Contains(apply.Timings, t => t.Stage == "apply" && t.Action == "provision" && t.Source == "local-exec" && t.State == TimingState.Completed);
            state = apply.State;
            Assert.Equal("dev-box-start", HomeInput(state));
        }

        // Stop, from the start build's state
        using (var stop = TestSession.Create(files, state))
        {
            var plan = await provisioner.PlanAsync(stop.Session, PlanFor(WorkspaceTransition.Stop, 2), cancellationToken);
            Assert.True(plan.Error == "", plan.Error + "\n" + stop.LogText);
            Assert.Contains(plan.Timings, t => t.Action == "state refresh" && t.Resource == "terraform_data.home");
            var replacement = Assert.Single(plan.ResourceReplacements);
            Assert.Equal("terraform_data.home", replacement.Resource);
            Assert.Equal(["triggers_replace"], replacement.Paths);

            var apply = await provisioner.ApplyAsync(stop.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Stop, 2) }, cancellationToken);
            Assert.True(apply.Error == "", apply.Error + "\n" + stop.LogText);
            Assert.Contains(apply.Resources, r => r.Name == "home");
            Assert.DoesNotContain(apply.Resources, r => r.Name == "runner");
            state = apply.State;
            Assert.Equal("dev-box-stop", HomeInput(state));
        }

        // Delete
        using (var delete = TestSession.Create(files, state))
        {
            var plan = await provisioner.PlanAsync(delete.Session, PlanFor(WorkspaceTransition.Destroy, 3), cancellationToken);
            Assert.True(plan.Error == "", plan.Error + "\n" + delete.LogText);

            var apply = await provisioner.ApplyAsync(delete.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Destroy, 3) }, cancellationToken);
            Assert.True(apply.Error == "", apply.Error + "\n" + delete.LogText);
            Assert.Empty(apply.Resources);
            Assert.False(apply.State.IsEmpty);
            Assert.Empty(StateResources(apply.State));
            Assert.Contains(apply.Timings, t => t.Resource == "terraform_data.home" && t.Action == "delete");
        }
    }

    [Fact]
    public async Task Plan_SyntaxError_FailsWithFileAndLineInErrorAndLogs()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = "resource \"terraform_data\" \"a\" {\n  input = \n}\n",
        });

        var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Start, 1), TestContext.Current.CancellationToken);

        Assert.Contains("main.tf:2", plan.Error, StringComparison.Ordinal);
        Assert.Contains("Invalid expression", plan.Error, StringComparison.Ordinal);
        Assert.Contains(session.Logs, log => log.Level == LogLevel.Error && log.Output == "Error: Invalid expression");
        Assert.Contains(session.Logs, log => log.Output.Contains("on main.tf line 2", StringComparison.Ordinal));
        Assert.Empty(plan.Resources);
    }

    [Fact]
    public async Task Apply_ProvisionerFails_ReturnsErrorWithLocationAndPartialState()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = """
                resource "terraform_data" "first" {}

                resource "terraform_data" "broken" {
                  depends_on = [terraform_data.first]
                  provisioner "local-exec" {
                    command = "echo about to fail; exit 3"
                  }
                }
                """,
        });
        var cancellationToken = TestContext.Current.CancellationToken;
        var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Start, 1), cancellationToken);
        Assert.True(plan.Error == "", plan.Error);

        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Start, 1) }, cancellationToken);

        Assert.Contains("main.tf:5", apply.Error, StringComparison.Ordinal);
        Assert.Contains("local-exec provisioner error", apply.Error, StringComparison.Ordinal);
        Assert.Contains("terraform_data.first", StateResources(apply.State));
        Assert.Contains(apply.Timings, t => t.Resource == "terraform_data.broken" && t.State == TimingState.Failed);
        Assert.Contains(session.Logs, log => log.Output.Contains("on main.tf line 5", StringComparison.Ordinal));
    }

    [Fact(Timeout = 90_000)]
    public async Task Apply_CanceledDuringLongLocalExec_CompletesCanceledWithFinishedResourcesInState()
    {
        var provisioner = fixture.CreateProvisioner();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        // A duration of its own, to find this run's sleep among the machine's processes.
        var sleep = $"sleep 29.{Random.Shared.Next(100_000, 999_999)}";
        using var session = TestSession.Create(
            new Dictionary<string, string>
            {
                ["main.tf"] = $$"""
                    resource "terraform_data" "fast" {}

                    resource "terraform_data" "slow" {
                      depends_on = [terraform_data.fast]
                      provisioner "local-exec" {
                        command = "{{sleep}}"
                      }
                    }
                    """,
            },
            onLog: log =>
            {
                if (log.Output.Contains("(local-exec): Executing", StringComparison.Ordinal))
                {
                    cancel.Cancel();
                }
            });
        var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Start, 1), TestContext.Current.CancellationToken);
        Assert.True(plan.Error == "", plan.Error);

        var stopwatch = Stopwatch.StartNew();
        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Start, 1) }, cancel.Token);
        stopwatch.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"Apply returned {stopwatch.ElapsedMilliseconds} ms after it started; its sleep was interrupted.");

        Assert.True(cancel.IsCancellationRequested);
        Assert.Equal("canceled", apply.Error);
        Assert.Contains("terraform_data.fast", StateResources(apply.State));
        Assert.Contains(session.Logs, log => log.Output.Contains("Interrupt received", StringComparison.Ordinal));
        if (OperatingSystem.IsLinux())
        {
            // The script's child must not outlive the canceled build (SIGKILL is delivered asynchronously).
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (ProcessCommandLines().Contains(sleep) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            Assert.DoesNotContain(sleep, ProcessCommandLines());
        }
    }

    private static List<string> ProcessCommandLines()
    {
        var lines = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                lines.Add(File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ').Trim());
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked, or is not a process directory.
            }
        }

        return lines;
    }

    [Fact]
    public async Task Apply_Environment_HasWorkspaceMetadataAndNotDaemonSecrets()
    {
        Environment.SetEnvironmentVariable("PROVISIONING_TESTS_PROVISIONER_KEY", "daemon-key-must-not-leak");
        Environment.SetEnvironmentVariable("TERRAFORM_TESTS_DAEMON_SECRET", "stripped-by-option");
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = """
                resource "terraform_data" "dump" {
                  provisioner "local-exec" {
                    command = "env > environment.txt"
                  }
                }
                """,
        });
        var cancellationToken = TestContext.Current.CancellationToken;
        var request = PlanFor(WorkspaceTransition.Start, 7);
        request.RichParameterValues.Add(new RichParameterValue { Name = "region", Value = "eu-west" });

        var plan = await provisioner.PlanAsync(session.Session, request, cancellationToken);
        Assert.True(plan.Error == "", plan.Error);
        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Start, 7) }, cancellationToken);
        Assert.True(apply.Error == "", apply.Error);

        var environment = File.ReadAllLines(Path.Combine(session.Directory, "environment.txt"));
        Assert.Contains("CODER_WORKSPACE_NAME=dev-box", environment);
        Assert.Contains("CODER_WORKSPACE_OWNER=alice", environment);
        Assert.Contains("CODER_WORKSPACE_TRANSITION=start", environment);
        Assert.Contains("TF_VAR_workspace_name=dev-box", environment);
        Assert.Contains("TF_VAR_workspace_owner=alice", environment);
        Assert.Contains("TF_VAR_workspace_transition=start", environment);
        Assert.Contains("TF_VAR_workspace_build_number=7", environment);
        Assert.Contains("TF_IN_AUTOMATION=1", environment);
        Assert.Contains($"TF_PLUGIN_CACHE_DIR={Path.Combine(fixture.CacheDirectory, "plugins")}", environment);
        // The coder provider's name for parameter "region": CODER_PARAMETER_ + hex sha256("region").
        Assert.Contains("CODER_PARAMETER_c697d2981bf416569a16cfbcdec1542b5398f3cc77d2b905819aa99c46ecf6f6=eu-west", environment);
        Assert.DoesNotContain(environment, line => line.StartsWith("PROVISIONING_", StringComparison.Ordinal));
        Assert.DoesNotContain(environment, line => line.StartsWith("TERRAFORM_TESTS_DAEMON_SECRET=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PlanAndApply_PreviousParameterValues_ReachTerraformAsCoderParameterPrevious()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            // Apply runs with the plan's inputs again (PlannedRun), so what local-exec sees here is what apply got.
            ["main.tf"] = """
                resource "terraform_data" "dump" {
                  provisioner "local-exec" {
                    command = "env > environment.txt"
                  }
                }
                """,
        });
        var cancellationToken = TestContext.Current.CancellationToken;
        var request = PlanFor(WorkspaceTransition.Start, 8);
        request.RichParameterValues.Add(new RichParameterValue { Name = "region", Value = "eu-west" });
        request.PreviousParameterValues.Add(new RichParameterValue { Name = "region", Value = "us-east" });

        var plan = await provisioner.PlanAsync(session.Session, request, cancellationToken);
        Assert.True(plan.Error == "", plan.Error);
        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Start, 8) }, cancellationToken);
        Assert.True(apply.Error == "", apply.Error);

        var environment = File.ReadAllLines(Path.Combine(session.Directory, "environment.txt"));
        // CODER_PARAMETER_PREVIOUS_ + hex sha256("region"): the provider's contract for `validation { monotonic }`.
        Assert.Contains("CODER_PARAMETER_c697d2981bf416569a16cfbcdec1542b5398f3cc77d2b905819aa99c46ecf6f6=eu-west", environment);
        Assert.Contains("CODER_PARAMETER_PREVIOUS_c697d2981bf416569a16cfbcdec1542b5398f3cc77d2b905819aa99c46ecf6f6=us-east", environment);
    }

    [Fact]
    public async Task Apply_SensitiveValue_MaskedInLogsAndPlanButKeptInState()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = """
                variable "api_token" {
                  type      = string
                  sensitive = true
                }

                resource "terraform_data" "leaky" {
                  input = var.api_token

                  provisioner "local-exec" {
                    # Reads the value behind Terraform's back, so Terraform cannot mask it.
                    command = "cat provisioning.tfvars.json"
                  }
                }
                """,
        });
        var cancellationToken = TestContext.Current.CancellationToken;
        var request = PlanFor(WorkspaceTransition.Start, 1);
        request.VariableValues.Add(new VariableValue { Name = "api_token", Value = "tok-9f8e7d6c5b4a", Sensitive = true });

        var plan = await provisioner.PlanAsync(session.Session, request, cancellationToken);
        Assert.True(plan.Error == "", plan.Error);
        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Start, 1) }, cancellationToken);
        Assert.True(apply.Error == "", apply.Error);

        // Terraform's plan JSON holds the value in clear text twice (variables, planned_values); the plan sent on does not.
        Assert.DoesNotContain("tok-9f8e7d6c5b4a", plan.Plan.ToStringUtf8(), StringComparison.Ordinal);
        using (var planJson = JsonDocument.Parse(plan.Plan.ToStringUtf8()))
        {
            Assert.Equal("(sensitive value)", planJson.RootElement.GetProperty("variables").GetProperty("api_token").GetProperty("value").GetString());
        }

        // The state keeps the real value: the next build needs it.
        Assert.Contains("tok-9f8e7d6c5b4a", apply.State.ToStringUtf8(), StringComparison.Ordinal);
        Assert.DoesNotContain("tok-9f8e7d6c5b4a", session.LogText, StringComparison.Ordinal);
        Assert.DoesNotContain("session-token-secret", session.LogText, StringComparison.Ordinal);
        Assert.Contains("\"api_token\": \"(sensitive value)\"", session.LogText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_TwoSessionsAtOnce_ShareThePluginCacheSafely()
    {
        var provisioner = fixture.CreateProvisioner();
        var files = new Dictionary<string, string> { ["main.tf"] = "resource \"terraform_data\" \"one\" {}\n" };
        using var first = TestSession.Create(files);
        using var second = TestSession.Create(files);
        var cancellationToken = TestContext.Current.CancellationToken;

        var plans = await Task.WhenAll(
            provisioner.PlanAsync(first.Session, PlanFor(WorkspaceTransition.Start, 1), cancellationToken),
            provisioner.PlanAsync(second.Session, PlanFor(WorkspaceTransition.Start, 1), cancellationToken));

        Assert.All(plans, plan => Assert.True(plan.Error == "", plan.Error));
        Assert.All(plans, plan => Assert.Contains(plan.Resources, r => r.Name == "one"));
    }

    [Fact]
    public async Task PlanAndApply_BuiltInProviderOnly_SkipInitAndStillSucceed()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string> { ["main.tf"] = "resource \"terraform_data\" \"one\" {\n  input = \"x\"\n}\n" });
        var cancellationToken = TestContext.Current.CancellationToken;

        var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Start, 1), cancellationToken);
        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Start, 1) }, cancellationToken);

        Assert.True(plan.Error == "", plan.Error + "\n" + session.LogText);
        Assert.Contains(plan.Timings, timing => timing.Stage == "init" && timing.Action == "terraform init (skipped)");
        Assert.DoesNotContain(plan.Timings, timing => timing.Action == "terraform init");
        Assert.True(apply.Error == "", apply.Error + "\n" + session.LogText);
        Assert.Contains(apply.Resources, resource => resource.Name == "one");
        Assert.False(apply.State.IsEmpty);
    }

    [Fact]
    public async Task Plan_InitSkipTurnedOff_RunsInit()
    {
        var options = fixture.CreateOptions();
        options.SkipInitWhenCached = false;
        var provisioner = fixture.CreateProvisioner(options);
        using var session = TestSession.Create(new Dictionary<string, string> { ["main.tf"] = "resource \"terraform_data\" \"one\" {}\n" });

        var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Start, 1), TestContext.Current.CancellationToken);

        Assert.True(plan.Error == "", plan.Error + "\n" + session.LogText);
        Assert.Contains(plan.Timings, timing => timing.Action == "terraform init");
    }

    [Fact]
    public async Task Plan_ProviderMirror_InstallsOnlyFromTheMirrorAndSaysWhatIsMissing()
    {
        var mirror = Directory.CreateTempSubdirectory("provisioning-tf-mirror-").FullName;
        try
        {
            var options = fixture.CreateOptions();
            options.ProviderMirrorDirectory = mirror;
            var provisioner = fixture.CreateProvisioner(options);
            using var session = TestSession.Create(new Dictionary<string, string>
            {
                ["main.tf"] = """
                    terraform {
                      required_providers {
                        null = { source = "hashicorp/null" }
                      }
                    }
                    """,
            });

            var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Start, 1), TestContext.Current.CancellationToken);

            // Found in no search location but the mirror: the registry was never asked.
            Assert.Contains("Failed to query available provider packages", plan.Error, StringComparison.Ordinal);
            Assert.Contains("hashicorp/null", plan.Error, StringComparison.Ordinal);
            Assert.Contains(session.Logs, log => log.Output.Trim() == "- " + mirror);
        }
        finally
        {
            Directory.Delete(mirror, recursive: true);
        }
    }

    [Theory]
    [InlineData("debug", true)]
    [InlineData("", false)]
    public async Task Plan_SessionLogLevel_DecidesWhetherTerraformsDebugLogIsStreamed(string logLevel, bool expectDebug)
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(
            new Dictionary<string, string> { ["main.tf"] = "resource \"terraform_data\" \"one\" {}\n" },
            logLevel: logLevel);

        var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Start, 1), TestContext.Current.CancellationToken);

        Assert.True(plan.Error == "", plan.Error);
        Assert.Equal(expectDebug, session.Logs.Any(log => log.Level == LogLevel.Debug));
        Assert.Contains(session.Logs, log => log.Output.Contains("terraform_data.one: Plan to create", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Parse_WorkspaceTagsAndSensitiveVariable_AreReported()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = """
                variable "region" {
                  type    = string
                  default = "eu"
                }

                variable "token" {
                  type      = string
                  sensitive = true
                }

                data "coder_workspace_tags" "placement" {
                  tags = {
                    "region" = var.region
                    "team"   = "infra"
                  }
                }
                """,
        });

        var parsed = await provisioner.ParseAsync(session.Session, new ParseRequest(), TestContext.Current.CancellationToken);

        Assert.Equal("", parsed.Error);
        Assert.Equal("var.region", parsed.WorkspaceTags["region"]);
        Assert.Equal("\"infra\"", parsed.WorkspaceTags["team"]);
        var token = parsed.TemplateVariables.Single(v => v.Name == "token");
        Assert.True(token.Sensitive);
        Assert.True(token.Required);
        Assert.Equal("eu", parsed.TemplateVariables.Single(v => v.Name == "region").DefaultValue);
        Assert.True(parsed.Readme.IsEmpty);
    }

    [Fact]
    public async Task Parse_SyntaxError_FailsWithFileAndLine()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string>
        {
            ["main.tf"] = "variable \"ok\" {}\n",
            ["broken.tf"] = "variable \"x\" {\n  default = \n}\n",
        });

        var parsed = await provisioner.ParseAsync(session.Session, new ParseRequest(), TestContext.Current.CancellationToken);

        Assert.StartsWith("broken.tf:", parsed.Error, StringComparison.Ordinal);
        Assert.Contains(session.Logs, log => log.Level == LogLevel.Error && log.Output == parsed.Error);
        Assert.Empty(parsed.TemplateVariables);
    }

    [Fact]
    public async Task Destroy_WithoutState_SucceedsWithoutRunningTerraform()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string> { ["main.tf"] = "this is not even HCL {" });
        var cancellationToken = TestContext.Current.CancellationToken;

        var plan = await provisioner.PlanAsync(session.Session, PlanFor(WorkspaceTransition.Destroy, 2), cancellationToken);
        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest { Metadata = Metadata(WorkspaceTransition.Destroy, 2) }, cancellationToken);

        Assert.Equal("", plan.Error);
        Assert.Equal("", apply.Error);
        Assert.Empty(plan.Timings);
        Assert.True(apply.State.IsEmpty);
        Assert.False(Directory.Exists(Path.Combine(session.Directory, ".terraform")));
    }

    [Fact]
    public async Task Apply_WithoutPlan_ReturnsError()
    {
        var provisioner = fixture.CreateProvisioner();
        using var session = TestSession.Create(new Dictionary<string, string> { ["main.tf"] = "" });

        var apply = await provisioner.ApplyAsync(session.Session, new ApplyRequest(), TestContext.Current.CancellationToken);

        Assert.Contains("must follow a successful Plan", apply.Error, StringComparison.Ordinal);
    }

    internal static Metadata Metadata(WorkspaceTransition transition, int buildNumber) => new()
    {
        WorkspaceTransition = transition,
        WorkspaceName = "dev-box",
        WorkspaceOwner = "alice",
        WorkspaceId = "4b1a3d6e-0000-4000-8000-000000000001",
        WorkspaceOwnerSessionToken = "session-token-secret",
        WorkspaceBuildNumber = buildNumber,
    };

    private static PlanRequest PlanFor(WorkspaceTransition transition, int buildNumber, params (string Name, string Value)[] variables)
    {
        var request = new PlanRequest { Metadata = Metadata(transition, buildNumber) };
        request.VariableValues.AddRange(variables.Select(v => new VariableValue { Name = v.Name, Value = v.Value }));
        return request;
    }

    private static string? HomeInput(ByteString state)
    {
        using var document = JsonDocument.Parse(state.ToStringUtf8());
        var home = document.RootElement.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "home");
        return home.GetProperty("instances")[0].GetProperty("attributes").GetProperty("input").GetProperty("value").GetString();
    }

    private static List<string> StateResources(ByteString state)
    {
        using var document = JsonDocument.Parse(state.ToStringUtf8());
        return [.. document.RootElement.GetProperty("resources").EnumerateArray()
            .Select(r => r.GetProperty("type").GetString() + "." + r.GetProperty("name").GetString())];
    }
}
