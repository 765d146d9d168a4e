using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

using Provisioning.Daemon.Coordinator;

namespace Provisioning.Cli.Client;

/// <summary>A typed client for the coordinator's <c>/api/v1</c>; refusals become <see cref="ProvisioningApiException"/> with the server's explanation.</summary>
internal sealed class ProvisioningClient(HttpClient http) : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // Compile-time metadata first (CliJsonContext says why); reflection for any other type (--output json of a
        // shape not listed there, the prompter's arrays).
        TypeInfoResolver = JsonTypeInfoResolver.Combine(CliJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };

    public Uri BaseAddress => http.BaseAddress!;

    public static ProvisioningClient Create(Uri url, string? token, CoordinatorClientTls? tls = null)
    {
        var handler = new SocketsHttpHandler();
        (tls ?? CoordinatorClientTls.None).ApplyTo(handler);
        var http = new HttpClient(handler, disposeHandler: true) { BaseAddress = url, Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return new ProvisioningClient(http);
    }

    public Task<BuildInfo> GetBuildInfoAsync(CancellationToken cancellationToken = default) => GetAsync<BuildInfo>("api/v1/buildinfo", cancellationToken);

    public Task<User> GetMeAsync(CancellationToken cancellationToken = default) => GetAsync<User>("api/v1/users/me", cancellationToken);

    public async Task<UploadedFile> UploadFileAsync(byte[] tar, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(tar);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        return await SendAsync<UploadedFile>(HttpMethod.Post, "api/v1/files", content, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<Template>> ListTemplatesAsync(CancellationToken cancellationToken = default) => GetAsync<IReadOnlyList<Template>>("api/v1/templates", cancellationToken);

    public async Task<Template?> FindTemplateAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetAsync<Template>($"api/v1/templates/{Escape(name)}", cancellationToken).ConfigureAwait(false);
        }
        catch (ProvisioningApiException exception) when (exception.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task<TemplateVersion> CreateTemplateVersionAsync(string template, CreateTemplateVersionRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<TemplateVersion>(HttpMethod.Post, $"api/v1/templates/{Escape(template)}/versions", JsonContent.Create(request, options: Json), cancellationToken);

    public Task<IReadOnlyList<TemplateVersion>> ListTemplateVersionsAsync(string template, CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<TemplateVersion>>($"api/v1/templates/{Escape(template)}/versions", cancellationToken);

    public Task<TemplateVersion> GetTemplateVersionAsync(string template, string version, CancellationToken cancellationToken = default) =>
        GetAsync<TemplateVersion>($"api/v1/templates/{Escape(template)}/versions/{Escape(version)}", cancellationToken);

    public Task<DryRun> CreateDryRunAsync(string template, string version, CreateDryRunRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<DryRun>(HttpMethod.Post, $"api/v1/templates/{Escape(template)}/versions/{Escape(version)}/dry-run", JsonContent.Create(request, options: Json), cancellationToken);

    public Task<IReadOnlyList<Resource>> GetDryRunResourcesAsync(string template, string version, Guid dryRun, CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<Resource>>($"api/v1/templates/{Escape(template)}/versions/{Escape(version)}/dry-run/{dryRun}/resources", cancellationToken);

    public Task<Workspace> CreateWorkspaceAsync(CreateWorkspaceRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Workspace>(HttpMethod.Post, "api/v1/workspaces", JsonContent.Create(request, options: Json), cancellationToken);

    public Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken = default) => GetAsync<IReadOnlyList<Workspace>>("api/v1/workspaces", cancellationToken);

    public Task<Workspace> GetWorkspaceAsync(string name, CancellationToken cancellationToken = default) => GetAsync<Workspace>($"api/v1/workspaces/{Escape(name)}", cancellationToken);

    public Task<Build> CreateBuildAsync(string workspace, CreateBuildRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Build>(HttpMethod.Post, $"api/v1/workspaces/{Escape(workspace)}/builds", JsonContent.Create(request, options: Json), cancellationToken);

    public Task<Build> GetBuildAsync(string workspace, int number, CancellationToken cancellationToken = default) =>
        GetAsync<Build>($"api/v1/workspaces/{Escape(workspace)}/builds/{number}", cancellationToken);

    /// <summary>The state a build recorded, or null when it recorded none.</summary>
    public async Task<byte[]?> GetStateAsync(string workspace, int number, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, $"api/v1/workspaces/{Escape(workspace)}/builds/{number}/state", cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NoContent ? null : await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<Build> PutStateAsync(string workspace, byte[] state, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(state);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await SendAsync<Build>(HttpMethod.Put, $"api/v1/workspaces/{Escape(workspace)}/state", content, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<OrphanedState>> ListOrphanedStatesAsync(string workspace, CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<OrphanedState>>($"api/v1/workspaces/{Escape(workspace)}/orphaned-states", cancellationToken);

    public async Task<byte[]> GetOrphanedStateAsync(string workspace, Guid id, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, $"api/v1/workspaces/{Escape(workspace)}/orphaned-states/{id}", cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<Build> RestoreOrphanedStateAsync(string workspace, Guid id, CancellationToken cancellationToken = default) =>
        SendAsync<Build>(HttpMethod.Post, $"api/v1/workspaces/{Escape(workspace)}/orphaned-states/{id}/restore", null, cancellationToken);

    public Task<IReadOnlyList<Job>> ListJobsAsync(string? status, CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<Job>>(string.IsNullOrEmpty(status) ? "api/v1/jobs" : $"api/v1/jobs?status={Uri.EscapeDataString(status)}", cancellationToken);

    public Task<Job> GetJobAsync(Guid id, CancellationToken cancellationToken = default) => GetAsync<Job>($"api/v1/jobs/{id}", cancellationToken);

    public Task<Job> CancelJobAsync(Guid id, CancellationToken cancellationToken = default) => SendAsync<Job>(HttpMethod.Post, $"api/v1/jobs/{id}/cancel", null, cancellationToken);

    public Task<IReadOnlyList<JobLog>> GetJobLogsAsync(Guid id, long after, CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<JobLog>>($"api/v1/jobs/{id}/logs?after={after}", cancellationToken);

    /// <summary>
    /// Follows a job's logs (Server-Sent Events) until it ends: yields each line, then one <see cref="JobEnd"/>.
    /// A dropped connection ends the enumeration without a <see cref="JobEnd"/>, so callers can resume after the last cursor.
    /// </summary>
    public async IAsyncEnumerable<object> FollowJobLogsAsync(Guid id, long after, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"api/v1/jobs/{id}/logs?follow=true&after={after}", UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        HttpResponseMessage sent;
        try
        {
            sent = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception)
        {
            throw Unreachable(exception);
        }

        using var response = sent;
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        // A large buffer: the server sends a page of lines at a time, and a chatty build's follower reads them in few calls.
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        string? eventName = null;
        var data = new StringBuilder();
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                yield break;
            }

            if (line is null)
            {
                yield break;
            }

            if (line.Length > 0)
            {
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    eventName = line[6..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data.Append(line[5..].TrimStart());
                }

                continue;
            }

            if (eventName == "log" && data.Length > 0)
            {
                yield return JsonSerializer.Deserialize<JobLog>(data.ToString(), Json)!;
            }
            else if (eventName == "end")
            {
                yield return JsonSerializer.Deserialize<JobEnd>(data.ToString(), Json)!;
                yield break;
            }

            eventName = null;
            data.Clear();
        }
    }

    public Task<IReadOnlyList<ProvisionerDaemon>> ListProvisionersAsync(CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<ProvisionerDaemon>>("api/v1/provisioners", cancellationToken);

    public Task<CreatedProvisionerKey> CreateProvisionerKeyAsync(CreateProvisionerKeyRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<CreatedProvisionerKey>(HttpMethod.Post, "api/v1/provisioner-keys", JsonContent.Create(request, options: Json), cancellationToken);

    public Task<IReadOnlyList<ProvisionerKey>> ListProvisionerKeysAsync(CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<ProvisionerKey>>("api/v1/provisioner-keys", cancellationToken);

    public async Task DeleteProvisionerKeyAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(HttpMethod.Delete, $"api/v1/provisioner-keys/{Escape(name)}", cancellationToken).ConfigureAwait(false);
    }

    public Task<TemplateVersion> ActivateTemplateVersionAsync(string template, string version, CancellationToken cancellationToken = default) =>
        SendAsync<TemplateVersion>(HttpMethod.Patch, $"api/v1/templates/{Escape(template)}/versions/{Escape(version)}/activate", null, cancellationToken);

    public Task<IReadOnlyList<TemplatePreset>> ListPresetsAsync(string template, string version, CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<TemplatePreset>>($"api/v1/templates/{Escape(template)}/versions/{Escape(version)}/presets", cancellationToken);

    public Task<BuildTimings> GetBuildTimingsAsync(string workspace, int number, CancellationToken cancellationToken = default) =>
        GetAsync<BuildTimings>($"api/v1/workspaces/{Escape(workspace)}/builds/{number}/timings", cancellationToken);

    /// <summary>A stored file (a template version's archive) as a stream the caller disposes.</summary>
    public async Task<Stream> DownloadFileAsync(string hash, CancellationToken cancellationToken = default)
    {
        var response = await SendRawAsync(HttpMethod.Get, $"api/v1/files/{Escape(hash)}", cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => http.Dispose();

    /// <summary>Sends a request whose body the caller reads; a coordinator that cannot be reached or refuses becomes one <see cref="ProvisioningApiException"/>.</summary>
    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception)
        {
            throw Unreachable(exception);
        }

        try
        {
            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>What to tell a user whose request never got an answer: a TLS handshake that failed says how to fix it.</summary>
    private ProvisioningApiException Unreachable(HttpRequestException exception) =>
        new(CoordinatorClientTls.DescribeHandshakeFailure(exception, http.BaseAddress!) is { } handshake
                ? char.ToUpperInvariant(handshake[0]) + handshake[1..]
                : $"Cannot reach the coordinator at {http.BaseAddress}: {exception.Message}. Is `provisioning server` running there, or is the URL (provisioning login URL, PROVISIONING_URL) wrong?",
            exception);

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) => SendAsync<T>(HttpMethod.Get, path, null, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception)
        {
            throw Unreachable(exception);
        }

        using (response)
        {
            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false))!;
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var message = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        try
        {
            using var problem = JsonDocument.Parse(body);
            var root = problem.RootElement;
            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            message = string.Join(": ", new[] { title, detail }.Where(part => !string.IsNullOrWhiteSpace(part)));
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                var reasons = errors.EnumerateObject().SelectMany(field => field.Value.EnumerateArray().Select(reason => $"{field.Name}: {reason.GetString()}"));
                var extra = string.Join("; ", reasons.Where(reason => detail is null || !detail.Contains(reason[(reason.IndexOf(':', StringComparison.Ordinal) + 2)..], StringComparison.Ordinal)));
                if (extra.Length > 0)
                {
                    message += " (" + extra + ")";
                }
            }
        }
        catch (JsonException)
        {
            if (!string.IsNullOrWhiteSpace(body))
            {
                message += ": " + body.Trim();
            }
        }

        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            message += $" — log in again: provisioning login {http.BaseAddress} --token <token> (or set PROVISIONING_SESSION_TOKEN).";
        }

        throw new ProvisioningApiException(response.StatusCode, message.ReplaceLineEndings(" "));
    }
}
