using System.Collections.Frozen;
using System.Security.Cryptography;

using Microsoft.AspNetCore.Http;

namespace Provisioning.Dashboard;

/// <summary>
/// The dashboard's script and style sheet, embedded in this assembly and served from memory with a content hash in
/// their links (<see cref="Url"/>), so browsers cache them for good and a new release is fetched at once.
/// </summary>
internal sealed class DashboardAssets
{
    public const string BasePath = "/dashboard-assets";

    private readonly FrozenDictionary<string, (byte[] Content, string ContentType, string Hash)> _assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        const string prefix = "Provisioning.Dashboard.Assets.";
        _assets = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .ToFrozenDictionary(name => name[prefix.Length..], name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var content = buffer.ToArray();
                var type = name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
                return (content, type, Convert.ToHexStringLower(SHA256.HashData(content))[..16]);
            }, StringComparer.Ordinal);
    }

    /// <summary>The link to an asset, with its content hash as the cache key.</summary>
    public string Url(string name) => $"{BasePath}/{name}?v={_assets[name].Hash}";

    public IResult Serve(string name, HttpContext http)
    {
        if (!_assets.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
