using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// The coordinator's REST API as the suite uses it (with the admin's session token). Each request is bounded by
/// <see cref="RequestTimeout"/>; a coordinator that is down surfaces as <see cref="HttpRequestException"/> or a
/// transient <see cref="ApiException"/>, which <see cref="IsTransient"/> recognises so that callers can ask again
/// while a fault lasts.
/// </summary>
internal sealed class CoordinatorApi : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly HttpClient _http;

    public CoordinatorApi(Uri url, string token)
    {
        _http = new HttpClient { BaseAddress = url, Timeout = RequestTimeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public static bool IsTransient(Exception exception) => exception switch
    {
        HttpRequestException => true,
        TaskCanceledException => true, // HttpClient's own timeout.
        ApiException api => api.IsTransient,
        _ => false,
    };

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("/readyz", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception exception) when (IsTransient(exception) && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public Task<WorkspaceView> CreateWorkspaceAsync(string name, string template, CancellationToken cancellationToken) =>
        SendAsync<WorkspaceView>(HttpMethod.Post, "api/v1/workspaces", JsonContent.Create(new { name, template }, options: Json), cancellationToken);

    public Task<BuildView> CreateBuildAsync(string workspace, string transition, CancellationToken cancellationToken) =>
        SendAsync<BuildView>(HttpMethod.Post, $"api/v1/workspaces/{Uri.EscapeDataString(workspace)}/builds", JsonContent.Create(new { transition }, options: Json), cancellationToken);

    /// <summary>The workspace, or null when there is none of that name (e.g. after a delete succeeded).</summary>
    public async Task<WorkspaceView?> FindWorkspaceAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync<WorkspaceView>(HttpMethod.Get, $"api/v1/workspaces/{Uri.EscapeDataString(name)}", null, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException exception) when (exception.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task<JobView> GetJobAsync(Guid id, CancellationToken cancellationToken) => SendAsync<JobView>(HttpMethod.Get, $"api/v1/jobs/{id}", null, cancellationToken);

    public Task<JobView> CancelJobAsync(Guid id, CancellationToken cancellationToken) => SendAsync<JobView>(HttpMethod.Post, $"api/v1/jobs/{id}/cancel", null, cancellationToken);

    public Task<IReadOnlyList<DaemonView>> ListDaemonsAsync(CancellationToken cancellationToken) => SendAsync<IReadOnlyList<DaemonView>>(HttpMethod.Get, "api/v1/provisioners", null, cancellationToken);

    /// <summary>The Terraform state build <paramref name="number"/> recorded, or null when it recorded none.</summary>
    public async Task<JsonDocument?> GetStateAsync(string workspace, int number, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri($"api/v1/workspaces/{Uri.EscapeDataString(workspace)}/builds/{number}/state", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return body.Length == 0 ? null : JsonDocument.Parse(body);
    }

    public void Dispose() => _http.Dispose();

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new ApiException(response.StatusCode, $"{(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}");
        }
    }
}
