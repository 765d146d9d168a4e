using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Dapper;

using Google.Protobuf;

using Microsoft.Extensions.DependencyInjection;

using Npgsql;

using Provisioning.Coordinator.Queueing;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>Invariant 3 through the REST API: no path that ends a build without a report loses the state, and a late state is kept and restorable.</summary>
public sealed class OrphanedStateApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LateStateOfAReapedBuild_IsOrphanedWithAWarning_AndRestoringItMakesItTheWorkspacesState()
    {
        using var admin = await fixture.Server.AdminAsync();
        var template = ApiFixture.UniqueName("t");
        var (_, daemon) = await fixture.PushImportedTemplateAsync(admin, template, ApiFixture.UniqueName("g"), [], Token);
        var name = ApiFixture.UniqueName("w");
        using (var created = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, template }, Token))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var first = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(
            new CompletedJob { JobId = first.JobId, WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFromUtf8("state-1") } } },
            daemon, cancellationToken: Token);

        // Build 2 (stop) runs on the daemon, which then goes silent: the reaper fails it. Build 3 is queued after it.
        await PostBuildAsync(admin, name, "stop");
        var second = await fixture.Server.AcquireAsync(daemon, Token);
        await ReapAsync(Guid.Parse(second.JobId));
        var third = await PostBuildAsync(admin, name, "start");

        // Build 3 is canceled while pending: it ends without a report and keeps the state it started with.
        using (var canceled = await admin.PostAsync($"/api/v1/jobs/{third.GetProperty("job").GetProperty("id").GetString()}/cancel", null, Token))
        {
            Assert.Equal(HttpStatusCode.OK, canceled.StatusCode);
        }

        Assert.Equal("state-1", await admin.GetStringAsync($"/api/v1/workspaces/{name}/builds/3/state", Token));
        Assert.Equal("state-1", await admin.GetStringAsync($"/api/v1/workspaces/{name}/builds/2/state", Token));

        // Now build 2's daemon comes back and reports the state Terraform wrote: a newer build exists, so it is orphaned.
        var late = await fixture.Server.Daemons.FailJobAsync(
            new FailedJob
            {
                JobId = second.JobId, Error = "interrupted", ErrorCode = "canceled",
                WorkspaceBuild = new FailedJob.Types.WorkspaceBuild { State = new Blob { Inline = ByteString.CopyFromUtf8("state-2-partial") } },
            },
            daemon, cancellationToken: Token);
        Assert.Equal(ReportJobResponse.Types.Outcome.LateStateOrphaned, late.Outcome);

        var workspace = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}", Token);
        Assert.Contains("orphaned", workspace.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
        var orphans = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}/orphaned-states", Token);
        var orphan = Assert.Single(orphans.EnumerateArray());
        Assert.Equal(2, orphan.GetProperty("build_number").GetInt32());
        var orphanId = orphan.GetProperty("id").GetString();
        Assert.Equal("state-2-partial", await admin.GetStringAsync($"/api/v1/workspaces/{name}/orphaned-states/{orphanId}", Token));

        using var restored = await admin.PostAsync($"/api/v1/workspaces/{name}/orphaned-states/{orphanId}/restore", null, Token);

        Assert.Equal(HttpStatusCode.Created, restored.StatusCode);
        var build = await ApiFixture.ReadAsync(restored, Token);
        Assert.Equal(4, build.GetProperty("build_number").GetInt32());
        Assert.Equal("state-2-partial", await admin.GetStringAsync($"/api/v1/workspaces/{name}/builds/4/state", Token));
        var after = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}", Token);
        Assert.Equal(0, after.GetProperty("warnings").GetArrayLength());
        var listed = await ApiFixture.GetJsonAsync(admin, $"/api/v1/workspaces/{name}/orphaned-states", Token);
        Assert.Equal(4, listed[0].GetProperty("restored_build_number").GetInt32());
    }

    private static async Task<JsonElement> PostBuildAsync(HttpClient client, string workspace, string transition)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/builds", new { transition }, Token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await ApiFixture.ReadAsync(response, Token);
    }

    private async Task ReapAsync(Guid jobId)
    {
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString);
        await connection.ExecuteAsync("UPDATE provisioner_jobs SET updated_at = now() - interval '10 minutes' WHERE id = @jobId", new { jobId });
        await connection.ExecuteAsync("INSERT INTO coordinator_liveness (replica, started_at, last_seen_at) VALUES ('test', now() - interval '1 hour', now())");
        var reaped = await fixture.Server.Services.GetRequiredService<ProvisionerJobQueue>().ReapAsync(TimeSpan.FromMinutes(5), TimeSpan.FromHours(1), Token);
        Assert.Contains(reaped, job => job.Id == jobId);
    }
}
