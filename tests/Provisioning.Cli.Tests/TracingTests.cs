namespace Provisioning.Cli.Tests;

/// <summary>One build's trace, as a collector receives it from a server and a daemon in separate processes.</summary>
public sealed class TracingTests(TracedFleetFixture fleet) : IClassFixture<TracedFleetFixture>
{
    [Fact]
    public async Task Build_OneTrace_RestRequestThenQueueThenDaemonJobThenEachTerraformCommand()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("Starts real processes of the Linux build: Linux only.");
        }

        await fleet.RunCheckedAsync("create", "traced", "-t", "local", "-y");

        // Exported in batches every 200 ms: wait (bounded) for the daemon's job span and its Terraform commands.
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(60));
        ReceivedSpan? job = null;
        while (job is null || !fleet.Receiver.Spans.Any(span => span.Name == "terraform apply" && span.ParentSpanId == job.SpanId))
        {
            await Task.Delay(200, patience.Token);
            job = fleet.Receiver.Spans.FirstOrDefault(span => span.Name == "provisioner job workspace_build");
        }

        var trace = fleet.Receiver.Spans.Where(span => span.TraceId == job.TraceId).ToList();
        var request = trace.Single(span => span.SpanId == job.ParentSpanId);
        var queued = trace.Single(span => span.Name == "queued workspace_build");
        var terraform = trace.Where(span => span.ParentSpanId == job.SpanId && span.Name.StartsWith("terraform ", StringComparison.Ordinal)).Select(span => span.Name).ToList();

        Assert.Equal("provisioning-coordinator", request.Service);
        Assert.StartsWith("POST", request.Name, StringComparison.Ordinal);
        Assert.Equal(request.SpanId, queued.ParentSpanId);
        Assert.Equal("provisioning-coordinator", queued.Service);
        Assert.Equal("provisioning-daemon", job.Service);
        // No "terraform init" here: templates/local needs no provider, so the daemon skips init (docs/decisions/0008).
        Assert.Contains("terraform plan", terraform);
        Assert.Contains("terraform graph", terraform);
        Assert.Contains("terraform apply", terraform);
        Assert.All(trace.Where(span => span.Name.StartsWith("terraform ", StringComparison.Ordinal)), span => Assert.Equal("provisioning-daemon", span.Service));
        Assert.DoesNotContain(fleet.Receiver.Spans, span => span.Name.Contains("UpdateJob", StringComparison.Ordinal));

        await fleet.RunCheckedAsync("delete", "traced", "-y");
    }
}
