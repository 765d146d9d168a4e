using System.Net;
using System.Net.Http.Json;

namespace Provisioning.Coordinator.Tests.Api;

public sealed class SystemApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BuildInfo_WithoutToken_GivesVersionAndTheHttp2OnlyGrpcAddress()
    {
        using var anonymous = fixture.Server.Anonymous();

        var info = await ApiFixture.GetJsonAsync(anonymous, "/api/v1/buildinfo", Token);

        Assert.False(string.IsNullOrEmpty(info.GetProperty("version").GetString()));
        Assert.Equal(fixture.Server.GrpcAddress.ToString().TrimEnd('/'), info.GetProperty("grpc_address").GetString());
    }

    [Fact]
    public async Task Probes_HealthzAndReadyz_AreOk()
    {
        using var anonymous = fixture.Server.Anonymous();

        using var health = await anonymous.GetAsync("/healthz", Token);
        using var ready = await anonymous.GetAsync("/readyz", Token);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Metrics_ReportQueueDepthPerTagSetJobsDaemonsAndHistogramsOfJobsSinceTheLastScrape()
    {
        using var admin = await fixture.Server.AdminAsync();
        using var anonymous = admin; // /metrics on the API port is for admins (an anonymous scraper uses --metrics-address)
        var tag = ApiFixture.UniqueName("m");
        var tags = new Dictionary<string, string> { ["test"] = tag };
        _ = await anonymous.GetStringAsync("/metrics", Token);
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), Token);
        using var pushed = await admin.PostAsJsonAsync($"/api/v1/templates/{ApiFixture.UniqueName("t")}/versions", new { file_hash = hash, provisioner_tags = tags }, Token);

        var whilePending = await anonymous.GetStringAsync("/metrics", Token);
        var daemon = await fixture.Server.RegisterDaemonAsync(ApiFixture.UniqueName("d"), tags, Token);
        var job = await fixture.Server.AcquireAsync(daemon, Token);
        await fixture.Server.Daemons.CompleteJobAsync(
            new Provisioning.Sdk.Daemon.CompletedJob { JobId = job.JobId, TemplateImport = new Provisioning.Sdk.Daemon.CompletedJob.Types.TemplateImport() }, daemon, cancellationToken: Token);

        // Histograms count jobs up to two seconds ago (transactions in flight must commit first): scrape until they show.
        var afterwards = await anonymous.GetStringAsync("/metrics", Token);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Token);
        patience.CancelAfter(TimeSpan.FromSeconds(30));
        while (!afterwards.Contains("provisioning_job_duration_seconds_count{type=\"template_version_import\",status=\"succeeded\"}", StringComparison.Ordinal))
        {
            await Task.Delay(250, patience.Token);
            afterwards += await anonymous.GetStringAsync("/metrics", patience.Token);
        }

        Assert.Contains($"tags=\"{{\\\"test\\\":\\\"{tag}\\\"}}\"}} 1", whilePending, StringComparison.Ordinal);
        Assert.Contains($"tags=\"{{\\\"test\\\":\\\"{tag}\\\"}}\"}} 0", afterwards, StringComparison.Ordinal);
        Assert.Contains("provisioning_jobs{status=\"succeeded\"}", afterwards, StringComparison.Ordinal);
        Assert.DoesNotContain("provisioning_daemons_connected 0", afterwards, StringComparison.Ordinal);
        Assert.Contains("provisioning_job_acquisition_latency_seconds_count{type=\"template_version_import\"}", afterwards, StringComparison.Ordinal);
        Assert.Contains("provisioning_job_duration_seconds_count{type=\"template_version_import\",status=\"succeeded\"}", afterwards, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsAndReadyz_Anonymous_NoMetricsAndNoDetail_AdminSeesBoth()
    {
        using var admin = await fixture.Server.AdminAsync();
        using var anonymous = fixture.Server.Anonymous();

        using var anonymousMetrics = await anonymous.GetAsync("/metrics", Token);
        using var adminMetrics = await admin.GetAsync("/metrics", Token);
        var anonymousReady = await anonymous.GetStringAsync("/readyz", Token);
        var adminReady = await admin.GetStringAsync("/readyz", Token);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymousMetrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminMetrics.StatusCode);
        var scraped = await adminMetrics.Content.ReadAsStringAsync(Token);
        Assert.Contains("process_cpu_seconds_total", scraped, StringComparison.Ordinal);
        Assert.Contains("dotnet_total_memory_bytes", scraped, StringComparison.Ordinal);
        Assert.Equal("ready", anonymousReady);
        Assert.StartsWith("ready", adminReady, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrpcPort_RestRequest_IsNotServedAndSaysWhereTheApiIs()
    {
        // The daemons' port speaks cleartext HTTP/2 only: a client with prior knowledge, as gRPC uses.
        using var http2 = new HttpClient { BaseAddress = fixture.Server.GrpcAddress, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var response = await http2.GetAsync("/api/v1/buildinfo", Token);
        var body = await response.Content.ReadAsStringAsync(Token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("only the provisioner daemons' gRPC service", body, StringComparison.Ordinal);
        Assert.Contains(fixture.Server.HttpAddress.ToString().TrimEnd('/'), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_DocumentListsTheApi()
    {
        using var anonymous = fixture.Server.Anonymous();

        var document = await anonymous.GetStringAsync("/openapi/v1.json", Token);

        Assert.Contains("/api/v1/workspaces/{name}/builds", document, StringComparison.Ordinal);
        Assert.Contains("/api/v1/jobs/{id}/logs", document, StringComparison.Ordinal);
        Assert.Contains("\"latest_build\"", document, StringComparison.Ordinal);
        Assert.Contains("\"waiting_reason\"", document, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HangfireDashboard_ForAdminsOnly_ByHeaderOrCookie()
    {
        using var anonymous = fixture.Server.Anonymous();
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        using var admin = await fixture.Server.AdminAsync();
        using var cookie = fixture.Server.Anonymous();
        cookie.DefaultRequestHeaders.Add("Cookie", $"provisioning_session_token={await fixture.Server.AdminTokenAsync()}");
        using (member)
        {
            using var none = await anonymous.GetAsync("/hangfire", Token);
            using var byMember = await member.GetAsync("/hangfire", Token);
            using var byAdmin = await admin.GetAsync("/hangfire", Token);
            using var byCookie = await cookie.GetAsync("/hangfire", Token);

            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            // Authenticated but not an admin: forbidden, no longer "unauthorized" (the dashboard sees who the caller is).
            Assert.Equal(HttpStatusCode.Forbidden, byMember.StatusCode);
            Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
            Assert.Contains("Hangfire", await byAdmin.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, byCookie.StatusCode);
        }
    }
}
