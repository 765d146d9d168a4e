using System.Net;
using System.Security.Cryptography;

namespace Provisioning.Coordinator.Tests.Api;

public sealed class FileApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Upload_NewTar_Is201WithSha256_AgainIs200_AndDownloadReturnsTheBytes()
    {
        using var admin = await fixture.Server.AdminAsync();
        var tar = TemplateTars.Unique();

        using var first = await admin.PostAsync("/api/v1/files", TemplateTars.Content(tar), Token);
        using var second = await admin.PostAsync("/api/v1/files", TemplateTars.Content(tar), Token);
        var hash = (await ApiFixture.ReadAsync(first, Token)).GetProperty("hash").GetString();
        var downloaded = await admin.GetByteArrayAsync($"/api/v1/files/{hash}", Token);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(tar)), hash);
        Assert.Equal(tar, downloaded);
    }

    [Fact]
    public async Task Upload_LargerThanLimit_Is413WithClearMessage()
    {
        using var admin = await fixture.Server.AdminAsync();
        var tar = TemplateTars.Create(("big.bin", new string('a', (int)ApiServer.MaxUploadBytes + 10)));

        using var response = await admin.PostAsync("/api/v1/files", TemplateTars.Content(tar), Token);

        var detail = await ApiFixture.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "file", Token);
        Assert.Contains("--max-upload-size", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_PathTraversal_Is400NamingTheEntry_AndStoresNothing()
    {
        using var admin = await fixture.Server.AdminAsync();
        var tar = TemplateTars.Create(("main.tf", "# ok"), ("../escape.tf", "# evil"));

        using var response = await admin.PostAsync("/api/v1/files", TemplateTars.Content(tar), Token);
        using var download = await admin.GetAsync($"/api/v1/files/{Convert.ToHexStringLower(SHA256.HashData(tar))}", Token);

        var detail = await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, null, Token);
        Assert.Contains("escape.tf", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
    }

    [Fact]
    public async Task Upload_NotATar_Is415()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.PostAsync("/api/v1/files", new StringContent("hello"), Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "content_type", Token);
    }

    [Fact]
    public async Task Download_UnknownHash_Is404()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.GetAsync($"/api/v1/files/{new string('0', 64)}", Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.NotFound, null, Token);
    }
}
