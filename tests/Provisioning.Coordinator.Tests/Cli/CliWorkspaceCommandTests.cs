using System.Net;
using System.Text.Json;

using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

using Provisioning.Coordinator.Tests.Api;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

using Log = Provisioning.Sdk.Daemon.Log;
using LogLevel = Provisioning.Sdk.Protocol.LogLevel;
using Metadata = Grpc.Core.Metadata;

namespace Provisioning.Coordinator.Tests.Cli;

/// <summary>
/// The `provisioning` executable against a real coordinator (REST and gRPC on 127.0.0.1); a daemon is simulated over
/// gRPC (the coder provider cannot run through Terraform here), so what the CLI sends is read from the jobs it queued.
/// Stdin is closed: these are the non-terminal paths (no prompts, plain output).
/// </summary>
public sealed class CliWorkspaceCommandTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static CompletedJob.Types.TemplateImport Import(bool withSize = false)
    {
        var import = new CompletedJob.Types.TemplateImport();
        import.RichParameters.Add(new RichParameter
        {
            Name = "region", Type = "string", Required = true, Mutable = false, Order = 1,
            Options = { new RichParameterOption { Name = "Europe", Value = "eu" }, new RichParameterOption { Name = "US", Value = "us" } },
        });
        import.RichParameters.Add(new RichParameter { Name = "cpus", Type = "number", DefaultValue = "2", Mutable = true, ValidationMin = 1, ValidationMax = 8, Order = 2 });
        import.RichParameters.Add(new RichParameter { Name = "tools", Type = "list(string)", DefaultValue = "[]", Mutable = true, Order = 3 });
        if (withSize)
        {
            import.RichParameters.Add(new RichParameter { Name = "size", Type = "string", Required = true, Mutable = true, Order = 4 });
        }

        import.Presets.Add(new Preset { Name = "big", Parameters = { new PresetParameter { Name = "cpus", Value = "8" }, new PresetParameter { Name = "region", Value = "us" } } });
        return import;
    }

    private async Task<(string Template, string Version, string Tag, Metadata Daemon, string Token)> TemplateAsync(HttpClient admin, IEnumerable<Log>? logs = null)
    {
        var template = ApiFixture.UniqueName("t");
        var tag = ApiFixture.UniqueName("g");
        var (version, daemon) = await fixture.PushImportedTemplateAsync(admin, template, tag, Import(), Token, logs);
        return (template, version.GetProperty("name").GetString()!, tag, daemon, await fixture.Server.AdminTokenAsync());
    }

    private Task<CliRun> RunAsync(string token, params string[] arguments) => CliProcess.RunAsync(fixture.Server.HttpAddress, token, arguments);

    private CliProcess.Run Start(string token, params string[] arguments) => CliProcess.Start(fixture.Server.HttpAddress, token, null, arguments);

    private static Dictionary<string, string> Values(AcquiredJob job) => job.WorkspaceBuild.RichParameterValues.ToDictionary(value => value.Name, value => value.Value);

    private async Task<AcquiredJob> CompleteNextAsync(Metadata daemon, params Timing[] timings)
    {
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob
            {
                JobId = job.JobId,
                WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFromUtf8("{\"version\":4}") }, Timings = { timings } },
            },
            daemon,
            cancellationToken: Token);
        return job;
    }

    private static Timing Span(string stage, string action, string resource, int from, int to)
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return new Timing
        {
            Stage = stage, Action = action, Source = "terraform", Resource = resource, State = TimingState.Completed,
            Start = Timestamp.FromDateTimeOffset(at.AddSeconds(from)), End = Timestamp.FromDateTimeOffset(at.AddSeconds(to)),
        };
    }

    private async Task<string> CreateWorkspaceAsync(string template, Metadata daemon, string token)
    {
        var name = ApiFixture.UniqueName("w");
        var run = Start(token, "create", name, "-t", template, "--parameter", "region=eu", "-y");
        await CompleteNextAsync(daemon);
        var result = await run.EndAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
        return name;
    }

    [Fact]
    public async Task Create_FileAndFlags_SendTheirValuesFlagsWinning_AndShowsStageDurationsWithoutEscapes()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _, daemon, token) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");
        var file = Path.Combine(Path.GetTempPath(), name + ".yaml");
        await File.WriteAllTextAsync(file, "region: eu\ncpus: 3\ntools:\n  - git\n  - vim\n", Token);

        var run = Start(token, "create", name, "-t", template, "--rich-parameter-file", file, "--parameter", "cpus=4", "-y");
        var job = await CompleteNextAsync(
            daemon, Span("init", "terraform init", "", 0, 3), Span("plan", "terraform plan", "", 3, 4), Span("plan", "terraform show", "", 4, 6),
            Span("apply", "terraform apply", "", 6, 8), Span("apply", "create", "terraform_data.dev", 6, 7));
        var result = await run.EndAsync();
        var timings = await RunAsync(token, "show", name, "--timings");
        File.Delete(file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(new Dictionary<string, string> { ["region"] = "eu", ["cpus"] = "4", ["tools"] = "[\"git\",\"vim\"]" }, Values(job));
        Assert.Contains("Stages: init 3.0s · plan 3.0s · apply 2.0s", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Build #1 (start) of workspace '{name}' succeeded", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Stdout + result.Stderr);
        Assert.True(timings.ExitCode == 0, timings.ToString());
        Assert.Contains("terraform_data.dev", timings.Stdout, StringComparison.Ordinal);
        Assert.Contains("terraform init", timings.Stdout, StringComparison.Ordinal);
        Assert.Contains("Terraform stages: 8.0s in all.", timings.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ChattyBuildFollowedIntoAPipe_PrintsEveryLineOnceInOrderUnderItsStage()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _, daemon, token) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");
        var run = Start(token, "create", name, "-t", template, "--parameter", "region=eu", "-y");
        var job = await fixture.Server.AcquireAsync(daemon, Token);

        // More lines than one page of the server's stream, in two stages, with a warning, an error and escape sequences.
        static Log Line(string stage, string output, LogLevel level = LogLevel.Info) => new() { Source = LogSource.Provisioner, Level = level, Stage = stage, Output = output };
        var planning = new List<Log> { Line("Planning", "Planning"), Line("Planning", "plan line"), Line("Planning", "careful", LogLevel.Warn), Line("Planning", "\u001b[31mred\u001b[0m text\u0007") };
        var applying = Enumerable.Range(1, 2400).Select(number => Line("Applying", $"seq {number}")).Append(Line("Applying", "it broke", LogLevel.Error)).ToList();
        await fixture.Server.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = job.JobId, Logs = { planning } }, daemon, cancellationToken: Token);
        await fixture.Server.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = job.JobId, Logs = { applying } }, daemon, cancellationToken: Token);
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob { JobId = job.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFromUtf8("{\"version\":4}") } } },
            daemon,
            cancellationToken: Token);
        var result = await run.EndAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.ReplaceLineEndings("\n").Split('\n');
        var expected = new List<string> { "==> Planning", "    plan line", "    WARN careful", "    red text", "==> Applying" };
        expected.AddRange(Enumerable.Range(1, 2400).Select(number => $"    seq {number}"));
        expected.Add("    ERROR it broke");
        var first = Array.IndexOf(lines, "==> Planning");
        Assert.True(first >= 0, result.ToString());
        Assert.Equal(expected, lines.Skip(first).Take(expected.Count));
        Assert.Contains($"Build #1 (start) of workspace '{name}' succeeded", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Stdout + result.Stderr);
    }

    [Fact]
    public async Task Create_RequiredParameterMissingWithoutTerminal_FailsInOneLineNamingIt_AndCreatesNothing()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _, _, token) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");

        var result = await RunAsync(token, "create", name, "-t", template, "-y");
        using var lookup = await admin.GetAsync($"/api/v1/workspaces/{name}", Token);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("error: Parameter 'region' is required and has no default: pass --parameter region=VALUE or --rich-parameter-file FILE.", result.Stderr.Trim());
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task Create_BadValue_PrintsTheCoordinatorsValidationMessageInOneLine()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _, _, token) = await TemplateAsync(admin);

        var result = await RunAsync(token, "create", ApiFixture.UniqueName("w"), "-t", template, "--parameter", "region=eu", "--parameter", "cpus=12", "-y");

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("value 12 is more than the maximum 8", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PresetsListAndCreateWithPreset_ApplyThePresetsValues()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _, daemon, token) = await TemplateAsync(admin);
        var name = ApiFixture.UniqueName("w");

        var listed = await RunAsync(token, "templates", "presets", "list", template);
        var run = Start(token, "create", name, "-t", template, "--preset", "big", "-y");
        var job = await CompleteNextAsync(daemon);
        var result = await run.EndAsync();
        var unknown = await RunAsync(token, "create", ApiFixture.UniqueName("w"), "-t", template, "--preset", "huge", "-y");

        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("big", listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("cpus=8, region=us", listed.Stdout, StringComparison.Ordinal);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Using preset 'big'", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<string, string> { ["region"] = "us", ["cpus"] = "8", ["tools"] = "[]" }, Values(job));
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("has no preset 'huge'; it has: big.", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_MovesToTheActiveVersionWithPreviousValuesAndTheNewParameter_ThenSaysItIsUpToDate()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, tag, daemon, token) = await TemplateAsync(admin);
        var name = await CreateWorkspaceAsync(template, daemon, token);
        var (second, _) = await fixture.PushImportedTemplateAsync(admin, template, tag, Import(withSize: true), Token);
        var secondName = second.GetProperty("name").GetString()!;

        var missing = await RunAsync(token, "update", name, "-y");
        var run = Start(token, "update", name, "--parameter", "size=large", "-y");
        var job = await CompleteNextAsync(daemon);
        var result = await run.EndAsync();
        var again = await RunAsync(token, "update", name, "-y");

        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("Parameter 'size' is required", missing.Stderr, StringComparison.Ordinal);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(secondName, job.WorkspaceBuild.Metadata.TemplateVersion);
        Assert.Equal(new Dictionary<string, string> { ["region"] = "eu", ["cpus"] = "2", ["tools"] = "[]", ["size"] = "large" }, Values(job));
        Assert.Equal("eu", job.WorkspaceBuild.PreviousParameterValues.Single(value => value.Name == "region").Value);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("nothing to update", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_StopsThenStartsWithTheGivenParameter()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _, daemon, token) = await TemplateAsync(admin);
        var name = await CreateWorkspaceAsync(template, daemon, token);

        var run = Start(token, "restart", name, "--parameter", "cpus=6", "-y");
        var stop = await CompleteNextAsync(daemon);
        var start = await CompleteNextAsync(daemon);
        var result = await run.EndAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(WorkspaceTransition.Stop, stop.WorkspaceBuild.Metadata.WorkspaceTransition);
        Assert.Equal(WorkspaceTransition.Start, start.WorkspaceBuild.Metadata.WorkspaceTransition);
        Assert.Equal("6", Values(start)["cpus"]);
        Assert.Contains("Build #2 (stop)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Build #3 (start) of workspace '{name}' succeeded", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteOrphan_WarnsThatResourcesStay_AndRemovesTheWorkspace()
    {
        using var admin = await fixture.Server.AdminAsync();
        var (template, _, _, daemon, token) = await TemplateAsync(admin);
        var name = await CreateWorkspaceAsync(template, daemon, token);

        var refusedWithoutYes = await RunAsync(token, "delete", name, "--orphan");
        var result = await RunAsync(token, "delete", name, "--orphan", "-y");
        using var lookup = await admin.GetAsync($"/api/v1/workspaces/{name}", Token);

        Assert.NotEqual(0, refusedWithoutYes.ExitCode);
        Assert.Contains("Pass --yes", refusedWithoutYes.Stderr, StringComparison.Ordinal);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("WITHOUT destroying anything", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Workspace '{name}' removed without destroying its resources", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task TemplateVersions_ActivatePullAndLogs_WorkAfterThePushEnded_AndLogsCarryNoControlSequences()
    {
        using var admin = await fixture.Server.AdminAsync();
        Log[] logs = [new Log { Source = LogSource.Provisioner, Level = LogLevel.Info, Stage = "Parsing", Output = "\u001b[31mred\u001b[0m text\u001b]0;title\u0007 done" }];
        var (template, first, tag, _, token) = await TemplateAsync(admin, logs);
        var (second, _) = await fixture.PushImportedTemplateAsync(admin, template, tag, Import(), Token);
        var directory = Path.Combine(Path.GetTempPath(), ApiFixture.UniqueName("pull"));

        var activated = await RunAsync(token, "templates", "versions", "activate", template, first);
        var shown = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/templates/{template}", Token)).RootElement;
        var pulled = await RunAsync(token, "templates", "versions", "pull", template, "-d", directory);
        var pulledAgain = await RunAsync(token, "templates", "versions", "pull", template, "-d", directory);
        var printed = await RunAsync(token, "templates", "versions", "logs", template, first);
        var notFound = await RunAsync(token, "templates", "versions", "activate", template, "v-none");

        Assert.True(activated.ExitCode == 0, activated.ToString());
        Assert.NotEqual(first, second.GetProperty("name").GetString());
        Assert.Equal(first, shown.GetProperty("active_version_name").GetString());
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.Contains("terraform_data", await File.ReadAllTextAsync(Path.Combine(directory, "main.tf"), Token), StringComparison.Ordinal);
        Assert.NotEqual(0, pulledAgain.ExitCode);
        Assert.Contains("is not empty", pulledAgain.Stderr, StringComparison.Ordinal);
        Assert.True(printed.ExitCode == 0, printed.ToString());
        Assert.Contains("red text done", printed.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', printed.Stdout);
        Assert.DoesNotContain('\u0007', printed.Stdout);
        Assert.NotEqual(0, notFound.ExitCode);
        Assert.Contains("has no version 'v-none'", notFound.Stderr, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task TemplatesPush_ReadsTfvarsFoundAndWarnsWithoutALockFile_FlagsWinning()
    {
        var token = await fixture.Server.AdminTokenAsync();
        var tag = ApiFixture.UniqueName("g");
        var template = ApiFixture.UniqueName("t");
        var directory = Path.Combine(Path.GetTempPath(), ApiFixture.UniqueName("tpl"));
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "main.tf"), "variable \"region\" {}\nvariable \"size\" {}\nresource \"null_resource\" \"x\" {}\n", Token);
        await File.WriteAllTextAsync(Path.Combine(directory, "a.tfvars"), "region = \"eu\"\nsize = \"small\"\n", Token);
        await File.WriteAllTextAsync(Path.Combine(directory, "b.tfvars.json"), "{\"size\": \"medium\"}", Token);
        var daemon = await fixture.Server.RegisterDaemonAsync(ApiFixture.UniqueName("d"), new Dictionary<string, string> { ["test"] = tag }, Token);

        var run = Start(token, "templates", "push", template, "-d", directory, "--provisioner-tag", $"test={tag}", "--variable", "region=us", "-y");
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(new CompletedJob { JobId = job.JobId, TemplateImport = new CompletedJob.Types.TemplateImport() }, daemon, cancellationToken: Token);
        var result = await run.EndAsync();
        Directory.Delete(directory, recursive: true);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Using template variables from a.tfvars.", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Using template variables from b.tfvars.json.", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("warning: No .terraform.lock.hcl in", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(
            new Dictionary<string, string> { ["region"] = "us", ["size"] = "medium" },
            job.TemplateImport.UserVariableValues.ToDictionary(value => value.Name, value => value.Value));
    }

    [Theory]
    [InlineData("state", "pull", "anything")]
    [InlineData("provisioner", "keys", "delete", "anything")]
    [InlineData("logs", "-f", "anything")]
    [InlineData("update", "anything")]
    public async Task Command_CoordinatorDown_FailsWithOneActionableLine_NeverAStackTrace(params string[] arguments)
    {
        // A port nobody listens on: bind one, note it, release it.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await CliProcess.RunAsync(new Uri($"http://127.0.0.1:{port}"), "abcdefghij-0123456789abcdef0123456789abcdef", arguments);

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: Cannot reach the coordinator at", line, StringComparison.Ordinal);
        Assert.Equal(1, line.Split("error:").Length - 1);
    }
}
