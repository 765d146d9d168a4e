using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Provisioning.Terraform.Tests.Binaries;

/// <summary>A release site on 127.0.0.1 serving fixed files by path, counting the requests for each.</summary>
internal sealed class ReleaseServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public ReleaseServer()
    {
        (_listener, BaseUrl) = Listen();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUrl { get; }

    public void Add(string path, byte[] content) => _files[path] = content;

    public int Requests(string path) => _requests.GetValueOrDefault(path);

    public async ValueTask DisposeAsync()
    {
        // Close alone, not Stop then Close: after Stop, the managed HttpListener's Close looks its endpoint up again and
        // binds the port anew to remove the prefix, which fails ("Address already in use") when the port is not free.
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (HttpListenerException)
        {
            // Stopping the listener ends the pending GetContextAsync this way.
        }
        catch (ObjectDisposedException)
        {
            // Likewise, depending on timing.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            var context = await _listener.GetContextAsync().ConfigureAwait(false);
            var path = context.Request.Url!.AbsolutePath;
            _requests.AddOrUpdate(path, 1, (_, count) => count + 1);
            if (_files.TryGetValue(path, out var content))
            {
                context.Response.StatusCode = 200;
                context.Response.ContentLength64 = content.Length;
                await context.Response.OutputStream.WriteAsync(content).ConfigureAwait(false);
            }
            else
            {
                context.Response.StatusCode = 404;
            }

            context.Response.Close();
        }
    }

    private static (HttpListener Listener, Uri BaseUrl) Listen()
    {
        // The free port found can be taken by another process before HttpListener binds it: try again.
        for (var attempt = 1; ; attempt++)
        {
            var baseUrl = new Uri($"http://127.0.0.1:{FreePort()}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(baseUrl.ToString());
            try
            {
                listener.Start();
                return (listener, baseUrl);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
