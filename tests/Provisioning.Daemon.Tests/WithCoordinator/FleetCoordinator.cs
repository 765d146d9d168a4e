using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Provisioning.Coordinator;
using Provisioning.Coordinator.Queueing;
using Provisioning.Daemon.Tests.Support;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>
/// The real coordinator host (AddCoordinator + MapCoordinator, as `provisioning server` composes it) with
/// its built-in PostgreSQL under a temporary home, REST and cleartext gRPC on ports chosen once, so it can
/// be stopped and started again on the same database and addresses. Work is driven through the REST API
/// with the admin token the first start wrote.
/// </summary>
internal sealed class FleetCoordinator : IAsyncDisposable
{
    public const string Psk = "fleet-tests-pre-shared-key-0123456789";

    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(2);

    private readonly IReadOnlyDictionary<string, string?> _settings;
    private WebApplication? _app;

    private FleetCoordinator(string home, Uri httpAddress, Uri grpcAddress, IReadOnlyDictionary<string, string?> settings)
    {
        Home = home;
        HttpAddress = httpAddress;
        GrpcAddress = grpcAddress;
        _settings = settings;
    }

    public string Home { get; }

    public Uri HttpAddress { get; }

    public Uri GrpcAddress { get; }

    public HttpClient Admin { get; private set; } = null!;

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The coordinator is stopped.");

    /// <summary>Starts a coordinator; <paramref name="settings"/> adds "Coordinator:*" settings (e.g. JobHangTimeout).</summary>
    public static async Task<FleetCoordinator> StartAsync(IReadOnlyDictionary<string, string?>? settings = null, CancellationToken cancellationToken = default)
    {
        var home = Path.Combine(Path.GetTempPath(), "provisioning-fleet-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(home);
        if (!OperatingSystem.IsWindows())
        {
            // The built-in PostgreSQL runs as the postgres user when the tests run as root: it must traverse this folder.
            File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        }

        var coordinator = new FleetCoordinator(home, new Uri($"http://127.0.0.1:{FreePort()}"), new Uri($"http://127.0.0.1:{FreePort()}"), settings ?? new Dictionary<string, string?>());
        await coordinator.StartAgainAsync(cancellationToken);
        return coordinator;
    }

    /// <summary>Starts the host (again) on the same home, database and ports.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        var http = HttpAddress.ToString().TrimEnd('/');
        var grpc = GrpcAddress.ToString().TrimEnd('/');
        var builder = WebApplication.CreateSlimBuilder();
        var configuration = new Dictionary<string, string?>
        {
            ["Coordinator:HomeDirectory"] = Home,
            ["Coordinator:ProvisionerPsk"] = Psk,
            ["Coordinator:HttpAddress"] = http,
            ["Coordinator:GrpcAddress"] = grpc,
        };
        foreach (var (key, value) in _settings)
        {
            configuration["Coordinator:" + key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.ClearProviders();
        builder.AddCoordinator();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenOnCoordinatorAddresses(new CoordinatorOptions { HttpAddress = http, GrpcAddress = grpc }));
        var app = builder.Build();
        app.MapCoordinator();
        await app.StartAsync(cancellationToken);
        _app = app;
        Admin?.Dispose();
        Admin = new HttpClient { BaseAddress = HttpAddress };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(Home, "session"), cancellationToken)).Trim());
    }

    /// <summary>Stops the host (and its built-in PostgreSQL); <see cref="StartAgainAsync"/> brings it back.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>Runs the maintenance job (the reaper) now instead of waiting for its minute.</summary>
    public Task RunMaintenanceAsync(CancellationToken cancellationToken) =>
        Services.GetRequiredService<CoordinatorMaintenance>().RunAsync(cancellationToken);

    /// <summary>A real daemon (in-process Terraform) against this coordinator's gRPC address, with the PSK unless configured otherwise.</summary>
    public DaemonHarness StartDaemon(
        string terraformCache,
        IReadOnlyDictionary<string, string>? tags = null,
        Action<ProvisionerDaemonOptions>? configure = null,
        Action<Provisioning.Terraform.TerraformOptions>? configureTerraform = null) =>
        DaemonHarness.Start(GrpcAddress, terraformCache, options =>
        {
            options.PreSharedKey = Psk;
            foreach (var (key, value) in tags ?? new Dictionary<string, string>())
            {
                options.Tags[key] = value;
            }

            configure?.Invoke(options);
        }, configureTerraform: configureTerraform);

    /// <summary>Uploads <paramref name="mainTf"/> as a template tar and pushes it as an activated version tagged <paramref name="tags"/>; returns the import job's id.</summary>
    public async Task<string> PushTemplateAsync(string template, string mainTf, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(await Templates.PackAsync(mainTf, cancellationToken));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        using var upload = await Admin.PostAsync("/api/v1/files", content, cancellationToken);
        var hash = (await ReadSuccessAsync(upload, cancellationToken)).GetProperty("hash").GetString();
        using var push = await Admin.PostAsJsonAsync($"/api/v1/templates/{template}/versions", new { file_hash = hash, provisioner_tags = tags, activate = true }, cancellationToken);
        return (await ReadSuccessAsync(push, cancellationToken)).GetProperty("job").GetProperty("id").GetString()!;
    }

    /// <summary>Pushes a template and waits for its import to succeed.</summary>
    public async Task ImportTemplateAsync(string template, string mainTf, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var job = await WaitForEndAsync(await PushTemplateAsync(template, mainTf, tags, cancellationToken), cancellationToken);
        AssertSucceeded(job);
    }

    /// <summary>Creates a workspace (its first build starts it) with <paramref name="parameters"/> as its rich parameter values; returns the first build's job id.</summary>
    public async Task<string> CreateWorkspaceAsync(string workspace, string template, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var values = (parameters ?? new Dictionary<string, string>()).Select(pair => new { name = pair.Key, value = pair.Value }).ToList();
        using var response = await Admin.PostAsJsonAsync("/api/v1/workspaces", new { name = workspace, template, rich_parameter_values = values }, cancellationToken);
        return (await ReadSuccessAsync(response, cancellationToken)).GetProperty("latest_build").GetProperty("job").GetProperty("id").GetString()!;
    }

    /// <summary>Queues a build with <paramref name="transition"/> (start, stop, delete); returns its job id.</summary>
    public async Task<string> BuildAsync(string workspace, string transition, CancellationToken cancellationToken)
    {
        using var response = await Admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/builds", new { transition }, cancellationToken);
        return (await ReadSuccessAsync(response, cancellationToken)).GetProperty("job").GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await Admin.GetAsync(path, cancellationToken);
        return await ReadSuccessAsync(response, cancellationToken);
    }

    public Task<JsonElement> GetJobAsync(string jobId, CancellationToken cancellationToken) => GetAsync($"/api/v1/jobs/{jobId}", cancellationToken);

    /// <summary>Polls GET /jobs/{id} until the job ended (bounded).</summary>
    public Task<JsonElement> WaitForEndAsync(string jobId, CancellationToken cancellationToken) =>
        WaitForJobAsync(jobId, job => job.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled", "ended", JobTimeout, cancellationToken);

    /// <summary>Polls GET /jobs/{id} until <paramref name="condition"/> holds; fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> WaitForJobAsync(string jobId, Func<JsonElement, bool> condition, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var job = await GetJobAsync(jobId, cancellationToken);
            if (condition(job))
            {
                return job;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"Job {jobId} has not {what} after {timeout}: {job}");
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>All of a job's log lines, in order.</summary>
    public async Task<List<JsonElement>> LogsAsync(string jobId, CancellationToken cancellationToken) =>
        [.. (await GetAsync($"/api/v1/jobs/{jobId}/logs", cancellationToken)).EnumerateArray()];

    /// <summary>The stage lines the daemon wrote for a job, in order.</summary>
    public async Task<List<string>> StagesAsync(string jobId, CancellationToken cancellationToken) =>
        [.. (await LogsAsync(jobId, cancellationToken))
            .Where(line => line.GetProperty("source").GetString() == "provisioner_daemon" && line.GetProperty("output").GetString() == line.GetProperty("stage").GetString())
            .Select(line => line.GetProperty("stage").GetString()!)];

    /// <summary>The resources in the state build <paramref name="number"/> recorded, by address, with their first instance's <c>input</c> attribute (none when it recorded no state).</summary>
    public async Task<Dictionary<string, string?>> StateResourcesAsync(string workspace, int number, CancellationToken cancellationToken)
    {
        using var response = await Admin.GetAsync($"/api/v1/workspaces/{workspace}/builds/{number}/state", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return [];
        }

        var state = await ReadSuccessAsync(response, cancellationToken);
        return state.GetProperty("resources").EnumerateArray().ToDictionary(
            resource => $"{resource.GetProperty("type").GetString()}.{resource.GetProperty("name").GetString()}",
            resource => resource.GetProperty("instances").EnumerateArray().Select(instance => InputOf(instance.GetProperty("attributes"))).FirstOrDefault());
    }

    public static void AssertSucceeded(JsonElement job) =>
        Assert.True(job.GetProperty("status").GetString() == "succeeded", $"The job did not succeed: {job}");

    public static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Admin?.Dispose();
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The built-in cluster's files belong to the postgres user; a leftover temporary folder is harmless.
        }
    }

    private static async Task<JsonElement> ReadSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    // terraform_data's input is dynamically typed: the state keeps it as {"value": ..., "type": ...}.
    private static string? InputOf(JsonElement attributes) =>
        !attributes.TryGetProperty("input", out var input) ? null
        : input.ValueKind == JsonValueKind.Object && input.TryGetProperty("value", out var value) ? value.ToString()
        : input.ValueKind == JsonValueKind.String ? input.GetString()
        : null;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
