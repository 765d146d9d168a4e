using System.Net;
using System.Net.Http.Json;

namespace Provisioning.Coordinator.Tests.Api;

/// <summary>
/// The session cookie is for the dashboard (issue 9, item 7): the server sets it (HttpOnly, SameSite=Strict),
/// it reads the API (GET) and the Hangfire dashboard, and it never authorizes an unsafe method on /api/v1 (CSRF).
/// </summary>
public sealed class SessionCookieTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string Cookie = "provisioning_session_token";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A client that sends exactly the cookie it is given and keeps none it receives.</summary>
    private HttpClient CookieClient(string? token)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = fixture.Server.HttpAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Add("Cookie", $"{Cookie}={token}");
        }

        return client;
    }

    private static string SetCookie(HttpResponseMessage response) =>
        Assert.Single(response.Headers.GetValues("Set-Cookie"), value => value.StartsWith(Cookie + "=", StringComparison.Ordinal));

    private static string CookieValue(string setCookie) => setCookie.Split(';')[0][(Cookie.Length + 1)..];

    [Fact]
    public async Task Post_WithOnlyTheCookie_Is401SayingToUseABearerToken_AndChangesNothing()
    {
        using var client = CookieClient(await fixture.Server.AdminTokenAsync());
        var name = ApiFixture.UniqueName("x");

        using var response = await client.PostAsJsonAsync("/api/v1/users", new { username = name, email = name + "@example.com" }, Token);
        using var token = await client.PostAsJsonAsync("/api/v1/users/me/tokens", new { name = "csrf" }, Token);
        using var admin = await fixture.Server.AdminAsync();
        using var lookup = await admin.PostAsJsonAsync("/api/v1/users", new { username = name, email = name + "@example.com" }, Token);

        var detail = await ApiFixture.AssertProblemAsync(response, HttpStatusCode.Unauthorized, null, Token);
        Assert.Contains("Bearer", detail, StringComparison.Ordinal);
        await ApiFixture.AssertProblemAsync(token, HttpStatusCode.Unauthorized, null, Token);

        // The refused request created nothing: the same user can still be created (by a bearer token).
        Assert.Equal(HttpStatusCode.Created, lookup.StatusCode);
    }

    [Fact]
    public async Task Get_WithTheCookie_Works()
    {
        using var client = CookieClient(await fixture.Server.AdminTokenAsync());

        var me = await ApiFixture.GetJsonAsync(client, "/api/v1/users/me", Token);

        Assert.Equal("admin", me.GetProperty("username").GetString());
    }

    [Fact]
    public async Task Login_SetsAnHttpOnlySameSiteStrictCookie_ThatReadsTheApi_AndLogoutRevokesIt()
    {
        var (member, username) = await fixture.Server.CreateUserAsync("member", Token);
        using (member)
        {
            using var minted = await member.PostAsJsonAsync("/api/v1/users/me/tokens", new { name = "for-login" }, Token);
            var memberToken = (await ApiFixture.ReadAsync(minted, Token)).GetProperty("key").GetString()!;
            using var anonymous = CookieClient(null);

            using var login = await anonymous.PostAsJsonAsync("/api/v1/users/login", new { token = memberToken }, Token);
            var setCookie = SetCookie(login);
            var session = CookieValue(setCookie);
            using var withCookie = CookieClient(session);
            var me = await ApiFixture.GetJsonAsync(withCookie, "/api/v1/users/me", Token);
            using var logout = await withCookie.PostAsync("/api/v1/users/logout", null, Token);
            var cleared = SetCookie(logout);
            using var afterLogout = await withCookie.GetAsync("/api/v1/users/me", Token);
            using var byToken = fixture.Server.Client(memberToken);
            var stillValid = await ApiFixture.GetJsonAsync(byToken, "/api/v1/users/me", Token);

            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("secure", setCookie.Replace("samesite", string.Empty, StringComparison.OrdinalIgnoreCase), StringComparison.OrdinalIgnoreCase);
            Assert.NotEqual(memberToken, session);
            Assert.Equal(username, me.GetProperty("username").GetString());
            Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
            Assert.Contains("expires=", cleared, StringComparison.OrdinalIgnoreCase);
            await ApiFixture.AssertProblemAsync(afterLogout, HttpStatusCode.Unauthorized, null, Token);
            Assert.Equal(username, stillValid.GetProperty("username").GetString());
        }
    }

    [Fact]
    public async Task Login_InvalidToken_Is401AndSetsNoCookie()
    {
        using var anonymous = CookieClient(null);

        using var login = await anonymous.PostAsJsonAsync("/api/v1/users/login", new { token = "abcdefghij-" + new string('x', 32) }, Token);

        await ApiFixture.AssertProblemAsync(login, HttpStatusCode.Unauthorized, null, Token);
        Assert.False(login.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Dashboard_WithAnAdminCookie_IsServed()
    {
        using var client = CookieClient(await fixture.Server.AdminTokenAsync());
        using var anonymous = CookieClient(null);

        using var page = await client.GetAsync("/hangfire", Token);
        using var refused = await anonymous.GetAsync("/hangfire", Token);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
