using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>Builds template tars in memory and uploads them.</summary>
internal static class TemplateTars
{
    public static byte[] Create(params (string Name, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A small valid template, unique per call (so each upload is a new file).</summary>
    public static byte[] Unique() => Create(("main.tf", $"# {Guid.NewGuid()}\nresource \"terraform_data\" \"x\" {{}}\n"));

    public static ByteArrayContent Content(byte[] tar)
    {
        var content = new ByteArrayContent(tar);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        return content;
    }

    public static async Task<string> UploadAsync(HttpClient client, byte[] tar, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsync("/api/v1/files", Content(tar), cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Upload answered {response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("hash").GetString()!;
    }
}
