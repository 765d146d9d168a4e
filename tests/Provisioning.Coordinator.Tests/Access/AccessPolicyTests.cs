using Provisioning.Coordinator.Access;
using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Coordinator.Tests.Access;

/// <summary>The role rules as a table (pure logic; the API tests check them through real requests).</summary>
public sealed class AccessPolicyTests
{
    private static readonly Guid OwnerId = Guid.NewGuid();

    private static ApiUser User(string role, Guid? id = null) => new(id ?? Guid.NewGuid(), role, role + "@example.com", role);

    [Theory]
    [InlineData(ApiRoles.Member, true, false, true, true, false)]
    [InlineData(ApiRoles.Member, false, false, false, false, false)]
    [InlineData(ApiRoles.TemplateAdmin, true, true, true, true, true)]
    [InlineData(ApiRoles.TemplateAdmin, false, true, true, false, false)]
    [InlineData(ApiRoles.Admin, false, true, true, true, true)]
    public void Rules_ByRoleAndOwnership_MatchTheTable(string role, bool owns, bool seesAll, bool read, bool change, bool replaceState)
    {
        var caller = User(role, owns ? OwnerId : null);

        Assert.Equal(seesAll, AccessPolicy.SeesEveryWorkspace(caller));
        Assert.Equal(read, AccessPolicy.CanReadWorkspace(caller, OwnerId));
        Assert.Equal(change, AccessPolicy.CanChangeWorkspace(caller, OwnerId));
        Assert.Equal(change, AccessPolicy.CanCancelJob(caller, OwnerId));
        Assert.Equal(replaceState, AccessPolicy.CanReplaceState(caller, OwnerId));
    }

    [Theory]
    [InlineData(ApiRoles.Member, false)]
    [InlineData(ApiRoles.TemplateAdmin, true)]
    [InlineData(ApiRoles.Admin, true)]
    public void CanCancelJob_NotABuildJob_NeedsTemplateAdmin(string role, bool expected) =>
        Assert.Equal(expected, AccessPolicy.CanCancelJob(User(role), workspaceOwnerId: null));

    [Fact]
    public void RequireChangeWorkspace_VisibleButNotChangeable_Is403_InvisibleIs404()
    {
        var templateAdmin = User(ApiRoles.TemplateAdmin);
        var member = User(ApiRoles.Member);

        var forbidden = Assert.Throws<ApiProblemException>(() => AccessPolicy.RequireChangeWorkspace(templateAdmin, OwnerId, "alice", "w"));
        var hidden = Assert.Throws<ApiProblemException>(() => AccessPolicy.RequireChangeWorkspace(member, OwnerId, "alice", "w"));

        Assert.Equal(403, forbidden.Status);
        Assert.Equal(404, hidden.Status);
    }

    [Fact]
    public void Anonymous_MayNothing()
    {
        var anonymous = ApiUser.FromPrincipal(null);

        Assert.False(anonymous.IsAuthenticated);
        Assert.False(AccessPolicy.CanReadWorkspace(anonymous, Guid.Empty));
        Assert.False(AccessPolicy.CanChangeWorkspace(anonymous, Guid.Empty));
        Assert.False(AccessPolicy.CanCancelJob(anonymous, null));
        Assert.Throws<ApiProblemException>(() => AccessPolicy.RequireRole(anonymous, ApiRoles.Member));
    }
}
