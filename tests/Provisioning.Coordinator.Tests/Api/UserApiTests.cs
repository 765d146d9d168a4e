using System.Net;
using System.Net.Http.Json;

namespace Provisioning.Coordinator.Tests.Api;

public sealed class UserApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FirstStart_WritesAdminTokenOwnerOnly_AndItAuthenticatesAsAdmin()
    {
        using var admin = await fixture.Server.AdminAsync();

        var me = await ApiFixture.GetJsonAsync(admin, "/api/v1/users/me", Token);

        Assert.Equal("admin", me.GetProperty("username").GetString());
        Assert.Equal("admin", me.GetProperty("role").GetString());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fixture.Server.SessionPath));
        }
    }

    [Fact]
    public async Task AnyEndpoint_NoToken_Is401WithHowToAuthenticate()
    {
        using var anonymous = fixture.Server.Anonymous();

        using var response = await anonymous.GetAsync("/api/v1/users/me", Token);

        var detail = await ApiFixture.AssertProblemAsync(response, HttpStatusCode.Unauthorized, null, Token);
        Assert.Contains("Provisioning-Session-Token", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyEndpoint_WrongToken_Is401()
    {
        using var client = fixture.Server.Client("abcdefghij-" + new string('x', 32));

        using var response = await client.GetAsync("/api/v1/templates", Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.Unauthorized, null, Token);
    }

    [Fact]
    public async Task SessionHeader_IsAcceptedLikeBearer()
    {
        using var client = fixture.Server.Anonymous();
        client.DefaultRequestHeaders.Add("Provisioning-Session-Token", await fixture.Server.AdminTokenAsync());

        using var response = await client.GetAsync("/api/v1/users/me", Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task CreateUser_AdminCreatesMember_MemberUsesFirstTokenAndCreatesAnother()
    {
        var (member, username) = await fixture.Server.CreateUserAsync("member", Token);
        using (member)
        {
            var me = await ApiFixture.GetJsonAsync(member, "/api/v1/users/me", Token);
            using var created = await member.PostAsJsonAsync("/api/v1/users/me/tokens", new { name = "ci", lifetime_seconds = 3600 }, Token);
            var key = (await ApiFixture.ReadAsync(created, Token)).GetProperty("key").GetString()!;
            using var second = fixture.Server.Client(key);
            var meAgain = await ApiFixture.GetJsonAsync(second, "/api/v1/users/me", Token);

            Assert.Equal(username, me.GetProperty("username").GetString());
            Assert.Equal("member", me.GetProperty("role").GetString());
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal(username, meAgain.GetProperty("username").GetString());
        }
    }

    [Fact]
    public async Task CreateUser_ByMember_Is403AndCreatesNothing()
    {
        var (member, _) = await fixture.Server.CreateUserAsync("member", Token);
        using (member)
        {
            var name = ApiFixture.UniqueName("x");
            using var response = await member.PostAsJsonAsync("/api/v1/users", new { username = name, email = name + "@example.com" }, Token);

            await ApiFixture.AssertProblemAsync(response, HttpStatusCode.Forbidden, null, Token);
        }
    }

    [Fact]
    public async Task CreateUser_InvalidUsername_Is400NamingTheField()
    {
        using var admin = await fixture.Server.AdminAsync();

        using var response = await admin.PostAsJsonAsync("/api/v1/users", new { username = "Not_Valid", email = "a@example.com" }, Token);

        await ApiFixture.AssertProblemAsync(response, HttpStatusCode.BadRequest, "username", Token);
    }
}
