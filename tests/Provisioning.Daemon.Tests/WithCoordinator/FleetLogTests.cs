using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

using Provisioning.Daemon.Tests.Support;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>
/// Invariant 5 end to end: a build that prints far more than one log batch, through a real daemon and the
/// real coordinator, keeps every line while the coordinator is reachable, and a per-job cap leaves lines
/// out only with a final line that says how many, never failing the build.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed partial class FleetLogTests(TerraformCacheFixture terraform)
{
    private const int Lines = 100_000;

    private const string ChattyTemplate = """
        resource "terraform_data" "chatty" {
          input = "chatty"
          provisioner "local-exec" {
            command = "seq 1 100000"
          }
        }
        """;

    [Fact(Timeout = 300_000)]
    public async Task Build_HundredThousandLinesWithCoordinatorUp_StoresEveryLineInOrder()
    {
        // Arrange
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await FleetCoordinator.StartAsync(cancellationToken: cancellationToken);
        var tags = FleetTests.UniqueTags();
        var (template, workspace) = (FleetCoordinator.UniqueName("chatty"), FleetCoordinator.UniqueName("ws"));
        await using var daemon = coordinator.StartDaemon(terraform.Directory, tags);
        await coordinator.ImportTemplateAsync(template, ChattyTemplate, tags, cancellationToken);

        // Act
        var job = await coordinator.WaitForEndAsync(await coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken), cancellationToken);

        // Assert: 1..100000 in order, nothing said to be dropped, no overflow.
        FleetCoordinator.AssertSucceeded(job);
        var outputs = await AllOutputsAsync(coordinator, job.GetProperty("id").GetString()!, cancellationToken);
        var numbers = SeqNumbers(outputs);
        Assert.True(numbers.Count == Lines, $"{numbers.Count} of {Lines} seq lines stored; the log has {outputs.Count} lines, e.g. {string.Join(" | ", outputs.Where(output => output.Contains("local-exec", StringComparison.Ordinal)).Take(4))}");
        Assert.True(numbers.SequenceEqual(Enumerable.Range(1, Lines)), "The seq lines are not 1..100000 in order.");
        Assert.DoesNotContain(outputs, output => output.Contains("unreachable", StringComparison.OrdinalIgnoreCase) || output.Contains("dropped", StringComparison.OrdinalIgnoreCase));
        Assert.False(job.GetProperty("logs_overflowed").GetBoolean());
    }

    [Fact(Timeout = 300_000)]
    public async Task Build_OutputBeyondThePerJobCap_StoresUpToTheCapEndsWithTheOmittedCountAndSucceeds()
    {
        // Arrange: a cap of 64 KiB against ~3.7 MB of output.
        const long cap = 64 * 1024;
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var coordinator = await FleetCoordinator.StartAsync(
            new Dictionary<string, string?> { ["MaxJobLogBytes"] = cap.ToString(CultureInfo.InvariantCulture) }, cancellationToken);
        var tags = FleetTests.UniqueTags();
        var (template, workspace) = (FleetCoordinator.UniqueName("capped"), FleetCoordinator.UniqueName("ws"));
        await using var daemon = coordinator.StartDaemon(terraform.Directory, tags);
        await coordinator.ImportTemplateAsync(template, ChattyTemplate, tags, cancellationToken);

        // Act
        var job = await coordinator.WaitForEndAsync(await coordinator.CreateWorkspaceAsync(workspace, template, cancellationToken), cancellationToken);

        // Assert: the build succeeded with its state; the stored lines fit the cap; the last line counts what was left out.
        FleetCoordinator.AssertSucceeded(job);
        Assert.True(job.GetProperty("logs_overflowed").GetBoolean(), $"logs_overflowed is not set: {job}");
        Assert.Equal(new Dictionary<string, string?> { ["terraform_data.chatty"] = "chatty" }, await coordinator.StateResourcesAsync(workspace, 1, cancellationToken));
        var outputs = await AllOutputsAsync(coordinator, job.GetProperty("id").GetString()!, cancellationToken);
        var stored = outputs[..^1];
        Assert.InRange(stored.Sum(output => (long)System.Text.Encoding.UTF8.GetByteCount(output)), cap - 200, cap);
        var summary = OmittedSummary().Match(outputs[^1]);
        Assert.True(summary.Success, $"The last line does not say how many lines were left out: '{outputs[^1]}'");
        var omittedLines = long.Parse(summary.Groups["lines"].Value, CultureInfo.InvariantCulture);
        var storedNumbers = SeqNumbers(stored);
        Assert.True(storedNumbers.SequenceEqual(Enumerable.Range(1, storedNumbers.Count)), "The stored seq lines are not a prefix of 1..100000.");

        // Every seq line not stored is counted, plus the lines Terraform and the daemon wrote after it.
        Assert.True(omittedLines > Lines - storedNumbers.Count, $"{omittedLines} lines reported as left out, but {Lines - storedNumbers.Count} seq lines alone are missing.");
        Assert.True(long.Parse(summary.Groups["bytes"].Value, CultureInfo.InvariantCulture) > omittedLines, "The omitted byte count is smaller than the omitted line count.");
        Assert.Single(outputs, output => OmittedSummary().IsMatch(output));
    }

    private static async Task<List<string>> AllOutputsAsync(FleetCoordinator coordinator, string jobId, CancellationToken cancellationToken)
    {
        var outputs = new List<string>();
        long after = 0;
        while (true)
        {
            var page = (await coordinator.GetAsync($"/api/v1/jobs/{jobId}/logs?after={after}", cancellationToken)).EnumerateArray().ToList();
            if (page.Count == 0)
            {
                return outputs;
            }

            outputs.AddRange(page.Select(line => line.GetProperty("output").GetString()!));
            after = page[^1].GetProperty("id").GetInt64();
        }
    }

    private static List<int> SeqNumbers(IEnumerable<string> outputs) =>
        [.. outputs.Select(output => SeqLine().Match(output)).Where(match => match.Success).Select(match => int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"^terraform_data\.chatty: \(local-exec\): (\d+)$")]
    private static partial Regex SeqLine();

    [GeneratedRegex(@"^(?<lines>\d+) log lines \((?<bytes>\d+) bytes\) were left out")]
    private static partial Regex OmittedSummary();
}
