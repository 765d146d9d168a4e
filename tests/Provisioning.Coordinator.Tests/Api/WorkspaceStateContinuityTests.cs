using System.Net;
using System.Net.Http.Json;
using System.Text;

using Google.Protobuf;

using Microsoft.Extensions.DependencyInjection;

using Provisioning.Coordinator.Queueing;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

using Metadata = Grpc.Core.Metadata;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// Invariant 3 (issue 9, item 1): a build that ends without a daemon's report (canceled while pending, failed
/// by the pending timeout) keeps the previous build's state, so the next build (e.g. a delete) still knows what exists.
/// Its own class (and so its own database), because the pending-timeout test reaps every pending job.
/// </summary>
public sealed class WorkspaceStateContinuityTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A workspace whose first build succeeded with <paramref name="state"/>; the daemon then goes quiet (it never acquires again).</summary>
    private async Task<(string Name, Metadata Daemon)> BuiltWorkspaceAsync(HttpClient admin, byte[] state)
    {
        var template = ApiFixture.UniqueName("t");
        var (_, daemon) = await fixture.PushImportedTemplateAsync(admin, template, ApiFixture.UniqueName("g"), [], Token);
        var name = ApiFixture.UniqueName("w");
        using var created = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, template }, Token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var first = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob { JobId = first.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFrom(state) } } },
            daemon,
            cancellationToken: Token);
        return (name, daemon);
    }

    private static async Task<string> QueueStopAsync(HttpClient admin, string name)
    {
        using var stop = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "stop" }, Token);
        Assert.Equal(HttpStatusCode.Created, stop.StatusCode);
        return (await ApiFixture.ReadAsync(stop, Token)).GetProperty("job").GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task CancelWhilePending_LatestBuildKeepsPreviousState_AndNextBuildCarriesIt()
    {
        using var admin = await fixture.Server.AdminAsync();
        var state = Encoding.UTF8.GetBytes("{\"version\":4,\"serial\":3,\"resources\":[{\"type\":\"terraform_data\",\"name\":\"x\"}]}");
        var (name, daemon) = await BuiltWorkspaceAsync(admin, state);
        var stopJob = await QueueStopAsync(admin, name);

        using var cancel = await admin.PostAsync($"/api/v1/jobs/{stopJob}/cancel", null, Token);
        using var stateOfBuild2 = await admin.GetAsync($"/api/v1/workspaces/{name}/builds/2/state", Token);
        var build2 = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}/builds/2", Token);
        using var delete = await admin.PostAsJsonAsync($"/api/v1/workspaces/{name}/builds", new { transition = "delete" }, Token);
        var deleteJob = await fixture.Server.AcquireAsync(daemon, Token);

        Assert.Equal("canceled", (await ApiFixture.ReadAsync(cancel, Token)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, stateOfBuild2.StatusCode);
        Assert.Equal(state, await stateOfBuild2.Content.ReadAsByteArrayAsync(Token));
        Assert.True(build2.GetProperty("has_state").GetBoolean());
        Assert.Equal(HttpStatusCode.Created, delete.StatusCode);
        Assert.Equal(WorkspaceTransition.Destroy, deleteJob.WorkspaceBuild.Metadata.WorkspaceTransition);
        Assert.Equal(state.Length, deleteJob.WorkspaceBuild.State.File.Size);
    }

    [Fact]
    public async Task PendingTimeout_LatestBuildKeepsPreviousState()
    {
        using var admin = await fixture.Server.AdminAsync();
        var state = Encoding.UTF8.GetBytes("{\"version\":4,\"serial\":9}");
        var (name, _) = await BuiltWorkspaceAsync(admin, state);
        var stopJob = await QueueStopAsync(admin, name);
        var queue = fixture.Server.Services.GetRequiredService<ProvisionerJobQueue>();

        // The maintenance job's call, with a pending timeout every pending job has exceeded (no running job is hung within a day).
        var reaped = await queue.ReapAsync(TimeSpan.FromDays(1), TimeSpan.Zero, Token);
        var job = await ApiFixture.GetJsonAsync(admin, $"/api/v1/jobs/{stopJob}", Token);
        using var stateOfBuild2 = await admin.GetAsync($"/api/v1/workspaces/{name}/builds/2/state", Token);

        Assert.Contains(reaped, reapedJob => reapedJob.Id.ToString() == stopJob);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, stateOfBuild2.StatusCode);
        Assert.Equal(state, await stateOfBuild2.Content.ReadAsByteArrayAsync(Token));
    }
}
