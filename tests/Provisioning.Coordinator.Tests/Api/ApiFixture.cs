using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Grpc.Core;

using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

using Metadata = Grpc.Core.Metadata;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// One coordinator for a test class. Tests stay independent by unique names and a unique tag per test:
/// each test's daemon carries its own tag, so it acquires only that test's jobs.
/// </summary>
public sealed class ApiFixture(PostgresServerFixture server) : IAsyncLifetime
{
    internal ApiServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await ApiServer.StartAsync(server, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    internal static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Pushes a template version tagged {test: tag} and, with a daemon of that tag, completes its import with <paramref name="parameters"/>.</summary>
    internal Task<(JsonElement Version, Metadata Daemon)> PushImportedTemplateAsync(
        HttpClient admin, string template, string tag, IEnumerable<RichParameter> parameters, CancellationToken cancellationToken) =>
        PushImportedTemplateAsync(admin, template, tag, new CompletedJob.Types.TemplateImport { RichParameters = { parameters } }, cancellationToken);

    /// <summary>Pushes a template version tagged {test: tag} and, with a daemon of that tag, completes its import with <paramref name="import"/> (parameters, presets, …).</summary>
    internal async Task<(JsonElement Version, Metadata Daemon)> PushImportedTemplateAsync(
        HttpClient admin, string template, string tag, CompletedJob.Types.TemplateImport import, CancellationToken cancellationToken, IEnumerable<Provisioning.Sdk.Daemon.Log>? logs = null)
    {
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), cancellationToken);
        using var response = await admin.PostAsJsonAsync(
            $"/api/v1/templates/{template}/versions",
            new { file_hash = hash, provisioner_tags = new Dictionary<string, string> { ["test"] = tag }, activate = true, message = "first" },
            cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var daemon = await Server.RegisterDaemonAsync(UniqueName("d"), new Dictionary<string, string> { ["test"] = tag }, cancellationToken);
        var job = await Server.AcquireAsync(daemon, cancellationToken);
        Assert.Equal(version.GetProperty("job").GetProperty("id").GetString(), job.JobId);
        if (logs is not null)
        {
            await Server.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = job.JobId, Logs = { logs } }, daemon, cancellationToken: cancellationToken);
        }

        await Server.Daemons.CompleteJobAsync(
            new CompletedJob { JobId = job.JobId, TemplateImport = import },
            daemon,
            cancellationToken: cancellationToken);
        return (version, daemon);
    }

    internal static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);

    internal static async Task<JsonElement> GetJsonAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(path, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadAsync(response, cancellationToken);
    }

    /// <summary>Asserts a ProblemDetails answer with <paramref name="status"/> that names <paramref name="field"/> (when given) and returns its detail.</summary>
    internal static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field, CancellationToken cancellationToken)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        var problem = await ReadAsync(response, cancellationToken);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        var detail = problem.GetProperty("detail").GetString()!;
        if (field is not null)
        {
            var reasons = problem.GetProperty("errors").GetProperty(field);
            Assert.NotEqual(0, reasons.GetArrayLength());
        }

        return detail;
    }
}
