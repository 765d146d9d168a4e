using Provisioning.Sdk.Protocol;
using Provisioning.Terraform.Execution;

namespace Provisioning.Terraform.Tests.Execution;

/// <summary>The lines below were captured from terraform 1.11.4 runs (apply, a failing apply, a refresh, a syntax error).</summary>
public sealed class TerraformJsonLogParserTests
{
    private const string ApplyStart = """{"@level":"info","@message":"terraform_data.a: Creating...","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:10.025189Z","hook":{"resource":{"addr":"terraform_data.a","module":"","resource":"terraform_data.a","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"a","resource_key":null},"action":"create"},"type":"apply_start"}""";
    private const string ProvisionStart = """{"@level":"info","@message":"terraform_data.a: Provisioning with 'local-exec'...","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:10.025767Z","hook":{"resource":{"addr":"terraform_data.a","module":"","resource":"terraform_data.a","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"a","resource_key":null},"provisioner":"local-exec"},"type":"provision_start"}""";
    private const string ProvisionProgress = """{"@level":"info","@message":"terraform_data.a: (local-exec): hello from local-exec","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:10.027098Z","hook":{"resource":{"addr":"terraform_data.a","module":"","resource":"terraform_data.a","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"a","resource_key":null},"provisioner":"local-exec","output":"hello from local-exec"},"type":"provision_progress"}""";
    private const string ProvisionComplete = """{"@level":"info","@message":"terraform_data.a: (local-exec) Provisioning complete","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:10.027319Z","hook":{"resource":{"addr":"terraform_data.a","module":"","resource":"terraform_data.a","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"a","resource_key":null},"provisioner":"local-exec"},"type":"provision_complete"}""";
    private const string ApplyComplete = """{"@level":"info","@message":"terraform_data.a: Creation complete after 0s [id=19153c76-83f0-21cd-5f73-09474f643a0b]","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:10.027459Z","hook":{"resource":{"addr":"terraform_data.a","module":"","resource":"terraform_data.a","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"a","resource_key":null},"action":"create","id_key":"id","id_value":"19153c76-83f0-21cd-5f73-09474f643a0b","elapsed_seconds":0},"type":"apply_complete"}""";
    private const string ProvisionErrored = """{"@level":"info","@message":"terraform_data.a: (local-exec) Provisioning errored","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:14.700959Z","hook":{"resource":{"addr":"terraform_data.a","module":"","resource":"terraform_data.a","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"a","resource_key":null},"provisioner":"local-exec"},"type":"provision_errored"}""";
    private const string ApplyErrored = """{"@level":"info","@message":"terraform_data.a: Creation errored after 0s","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:14.701052Z","hook":{"resource":{"addr":"terraform_data.a","module":"","resource":"terraform_data.a","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"a","resource_key":null},"action":"create","elapsed_seconds":0},"type":"apply_errored"}""";
    private const string RefreshStart = """{"@level":"info","@message":"terraform_data.b: Refreshing state... [id=04b9b982-eb1f-fea3-5c5e-c0fb7fc4be8c]","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:10.201053Z","hook":{"resource":{"addr":"terraform_data.b","module":"","resource":"terraform_data.b","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"b","resource_key":null},"id_key":"id","id_value":"04b9b982-eb1f-fea3-5c5e-c0fb7fc4be8c"},"type":"refresh_start"}""";
    private const string RefreshComplete = """{"@level":"info","@message":"terraform_data.b: Refresh complete [id=04b9b982-eb1f-fea3-5c5e-c0fb7fc4be8c]","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:10.201088Z","hook":{"resource":{"addr":"terraform_data.b","module":"","resource":"terraform_data.b","implied_provider":"terraform","resource_type":"terraform_data","resource_name":"b","resource_key":null},"id_key":"id","id_value":"04b9b982-eb1f-fea3-5c5e-c0fb7fc4be8c"},"type":"refresh_complete"}""";
    private const string SyntaxError = """{"@level":"error","@message":"Error: Invalid expression","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:12.611218Z","diagnostic":{"severity":"error","summary":"Invalid expression","detail":"Expected the start of an expression, but found an invalid expression token.","range":{"filename":"main.tf","start":{"line":2,"column":11,"byte":42},"end":{"line":3,"column":1,"byte":43}},"snippet":{"context":"resource \"terraform_data\" \"a\"","code":"  input = \n}","start_line":2,"highlight_start_offset":10,"highlight_end_offset":11,"values":[]}},"type":"diagnostic"}""";
    private const string Halted = """{"@level":"error","@message":"Error: execution halted","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:20.760327Z","diagnostic":{"severity":"error","summary":"execution halted","detail":""},"type":"diagnostic"}""";
    private const string Interrupt = """{"@level":"info","@message":"\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur.\nGracefully shutting down...\n","@module":"terraform.ui","@timestamp":"2026-11-28T16:43:20.757520Z","type":"log"}""";

    [Fact]
    public void ParseStdout_LogLine_UsesLevelAndMessage()
    {
        var parser = new TerraformJsonLogParser("apply", new TerraformTimings());

        var entries = parser.ParseStdout(ProvisionProgress);

        var entry = Assert.Single(entries);
        Assert.Equal(LogLevel.Info, entry.Level);
        Assert.Equal("terraform_data.a: (local-exec): hello from local-exec", entry.Output);
    }

    [Theory]
    [InlineData("""{"@level":"warn","@message":"first","hook":{"a":[1,{"b":"c"}]},"@message":"last wins"}""", LogLevel.Warn, "last wins")]
    [InlineData("""{"@message":"was text","@message":{"nested":"object"},"@level":"error"}""", LogLevel.Error, null)]
    [InlineData("""{"@level":"info","@message":"escaped \u0041 \"quoted\" \\ ✓","type":"log"}  """, LogLevel.Info, "escaped A \"quoted\" \\ ✓")]
    [InlineData("""{"@level":"info","@message":"trailing text"} and more""", LogLevel.Info, """{"@level":"info","@message":"trailing text"} and more""")]
    [InlineData("""{"@level":"info","@message":"not closed", """, LogLevel.Info, """{"@level":"info","@message":"not closed", """)]
    [InlineData("""{"@level":7,"\u0040message":"escaped name"}""", LogLevel.Info, "escaped name")]
    public void ParseStdout_LinesReadWithoutADocument_ReadAsTheDocumentWould(string line, LogLevel level, string? output)
    {
        var parser = new TerraformJsonLogParser("apply", new TerraformTimings());

        var entries = parser.ParseStdout(line);

        if (output is null)
        {
            Assert.Empty(entries);
            return;
        }

        var entry = Assert.Single(entries);
        Assert.Equal(level, entry.Level);
        Assert.Equal(output, entry.Output);
    }

    [Fact]
    public void ParseStdout_MultiLineMessage_BecomesOneEntryPerLine()
    {
        var parser = new TerraformJsonLogParser("apply", new TerraformTimings());

        var entries = parser.ParseStdout(Interrupt);

        Assert.Contains(entries, entry => entry.Output == "Interrupt received.");
        Assert.Contains(entries, entry => entry.Output == "Gracefully shutting down...");
        Assert.All(entries, entry => Assert.DoesNotContain('\n', entry.Output));
    }

    [Fact]
    public void ParseStdout_Diagnostic_RendersSeverityLocationSnippetAndDetail()
    {
        var parser = new TerraformJsonLogParser("plan", new TerraformTimings());

        var entries = parser.ParseStdout(SyntaxError);

        Assert.All(entries, entry => Assert.Equal(LogLevel.Error, entry.Level));
        Assert.Equal(
            [
                "Error: Invalid expression",
                "",
                "  on main.tf line 2, in resource \"terraform_data\" \"a\":",
                "     2:   input = ",
                "     3: }",
                "",
                "Expected the start of an expression, but found an invalid expression token.",
            ],
            entries.Select(entry => entry.Output));
        var diagnostic = Assert.Single(parser.Diagnostics);
        Assert.Equal("main.tf:2: Invalid expression: Expected the start of an expression, but found an invalid expression token.", diagnostic.OneLine());
    }

    [Fact]
    public void ParseStdout_DiagnosticWithoutRange_RendersSummaryOnly()
    {
        var parser = new TerraformJsonLogParser("apply", new TerraformTimings());

        var entries = parser.ParseStdout(Halted);

        Assert.Equal(["Error: execution halted"], entries.Select(entry => entry.Output));
        Assert.Equal("execution halted", Assert.Single(parser.Diagnostics).OneLine());
    }

    [Fact]
    public void ParseStdout_WarningDiagnostic_IsWarnAndNotAnError()
    {
        const string warning = """{"@level":"warn","@message":"Warning: Value for undeclared variable","@module":"terraform.ui","@timestamp":"2026-11-28T16:50:00.000000Z","diagnostic":{"severity":"warning","summary":"Value for undeclared variable","detail":"The root module does not declare a variable named \"x\"."},"type":"diagnostic"}""";
        var parser = new TerraformJsonLogParser("plan", new TerraformTimings());

        var entries = parser.ParseStdout(warning);

        Assert.All(entries, entry => Assert.Equal(LogLevel.Warn, entry.Level));
        Assert.Equal("Warning: Value for undeclared variable", entries[0].Output);
        Assert.False(Assert.Single(parser.Diagnostics).IsError);
    }

    [Fact]
    public void ParseStdout_ApplyAndProvisionHooks_ProduceCompletedTimings()
    {
        var timings = new TerraformTimings();
        var parser = new TerraformJsonLogParser("apply", timings);

        foreach (var line in new[] { ApplyStart, ProvisionStart, ProvisionProgress, ProvisionComplete, ApplyComplete })
        {
            parser.ParseStdout(line);
        }

        var all = timings.ToList();
        Assert.Equal(2, all.Count);
        var provision = all[0];
        Assert.Equal(("provision", "local-exec", "terraform_data.a", "apply", TimingState.Completed), (provision.Action, provision.Source, provision.Resource, provision.Stage, provision.State));
        var apply = all[1];
        Assert.Equal(("create", "terraform", "terraform_data.a", "apply", TimingState.Completed), (apply.Action, apply.Source, apply.Resource, apply.Stage, apply.State));
        Assert.Equal(DateTimeOffset.Parse("2026-11-28T16:43:10.025189Z", System.Globalization.CultureInfo.InvariantCulture), apply.Start.ToDateTimeOffset());
        Assert.Equal(DateTimeOffset.Parse("2026-11-28T16:43:10.027459Z", System.Globalization.CultureInfo.InvariantCulture), apply.End.ToDateTimeOffset());
    }

    [Fact]
    public void ParseStdout_ErroredHooks_ProduceFailedTimings()
    {
        var timings = new TerraformTimings();
        var parser = new TerraformJsonLogParser("apply", timings);

        foreach (var line in new[] { ApplyStart, ProvisionStart, ProvisionErrored, ApplyErrored })
        {
            parser.ParseStdout(line);
        }

        Assert.All(timings.ToList(), timing => Assert.Equal(TimingState.Failed, timing.State));
        Assert.Equal(2, timings.ToList().Count);
    }

    [Fact]
    public void ParseStdout_Refresh_ProducesStateRefreshTiming()
    {
        var timings = new TerraformTimings();
        var parser = new TerraformJsonLogParser("plan", timings);

        parser.ParseStdout(RefreshStart);
        parser.ParseStdout(RefreshComplete);

        var timing = Assert.Single(timings.ToList());
        Assert.Equal(("state refresh", "terraform_data.b", "plan", TimingState.Completed), (timing.Action, timing.Resource, timing.Stage, timing.State));
    }

    [Fact]
    public void ParseStdout_StartWithoutEnd_StaysStarted()
    {
        var timings = new TerraformTimings();
        var parser = new TerraformJsonLogParser("apply", timings);

        parser.ParseStdout(ApplyStart);

        var timing = Assert.Single(timings.ToList());
        Assert.Equal(TimingState.Started, timing.State);
        Assert.Null(timing.End);
    }

    [Theory]
    [InlineData("Initializing the backend...")]
    [InlineData("{not json")]
    public void ParseStdout_PlainText_IsLoggedAsInfo(string line)
    {
        var parser = new TerraformJsonLogParser("init", new TerraformTimings());

        var entry = Assert.Single(parser.ParseStdout(line));

        Assert.Equal(new TerraformLogEntry(LogLevel.Info, line), entry);
    }

    [Fact]
    public void ParseStderr_WarningBlockThenErrorBlock_FollowsTheBlockSeverity()
    {
        // Captured from terraform 1.11 with TF_CLI_CONFIG_FILE pointing at a missing file, then an error.
        var parser = new TerraformJsonLogParser("init", new TerraformTimings());

        var levels = new[]
        {
            "There are some problems with the CLI configuration:",
            "╷",
            "│ Warning: Unable to open CLI configuration file",
            "│ The CLI configuration file at \"/root/.terraformrc\" does not exist.",
            "╵",
            "│ Error: Failed to load plugin schemas",
        }.Select(line => parser.ParseStderr(line)!.Level).ToList();

        Assert.Equal([LogLevel.Error, LogLevel.Error, LogLevel.Warn, LogLevel.Warn, LogLevel.Warn, LogLevel.Error], levels);
        Assert.Null(parser.ParseStderr("  "));
    }

    [Fact]
    public void ParseStderr_PlainErrorBlock_BecomesADiagnosticWithLocation()
    {
        // Captured from terraform 1.11.4 "init -no-color" on a syntax error, and on a provider missing from a mirror.
        var parser = new TerraformJsonLogParser("init", new TerraformTimings());
        string[] lines =
        [
            "",
            "Error: Invalid expression",
            "",
            "  on main.tf line 2, in resource \"terraform_data\" \"a\":",
            "   2:   input = ",
            "",
            "Expected the start of an expression, but found an invalid expression token.",
            "",
            "Error: Failed to query available provider packages",
            "",
            "Could not retrieve the list of available versions for provider",
            "hashicorp/null: provider registry.terraform.io/hashicorp/null was not found",
        ];

        foreach (var line in lines)
        {
            parser.ParseStderr(line);
        }

        Assert.Equal(
            [
                "main.tf:2: Invalid expression: Expected the start of an expression, but found an invalid expression token.",
                "Failed to query available provider packages: Could not retrieve the list of available versions for provider hashicorp/null: provider registry.terraform.io/hashicorp/null was not found",
            ],
            parser.Diagnostics.Select(diagnostic => diagnostic.OneLine()));
    }

    [Fact]
    public void ParseStderr_TfLogJsonLine_UsesItsLevel()
    {
        // Captured from terraform 1.11.4 with TF_LOG=JSON.
        var parser = new TerraformJsonLogParser("plan", new TerraformTimings());

        var entry = parser.ParseStderr("""{"@level":"debug","@message":"using github.com/hashicorp/hcl/v2 v2.23.0","@timestamp":"2026-11-28T17:13:01.242587Z"}""");

        Assert.Equal(new TerraformLogEntry(LogLevel.Debug, "using github.com/hashicorp/hcl/v2 v2.23.0"), entry);
    }
}
