using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;

namespace Provisioning.Coordinator.Access;

/// <summary>
/// Who may do what, in one place (issue 9, item 7; docs/architecture.md, trust boundaries; docs/decisions/0003-authorization-layer.md).
/// The data-access layer (<see cref="WorkspaceStore"/>, <see cref="JobStore"/>, <see cref="TemplateStore"/>,
/// <see cref="UserStore"/>, <see cref="ProvisionerStore"/>) and the workspace builder call these on every read
/// and write, with the caller they were given; endpoints never decide.
/// <list type="bullet">
/// <item>members see and change only their own workspaces and jobs; anyone else's answers 404, as if absent;</item>
/// <item>template admins also manage templates and files and read any workspace, its state and its jobs, but
/// change, build, replace the state of and cancel only their own (403 on anyone else's, which they can see);</item>
/// <item>admins may do everything, including users and provisioner keys.</item>
/// </list>
/// </summary>
public static class AccessPolicy
{
    /// <summary>
    /// The SQL condition under which workspace <c>w</c> is visible to the caller (parameters <c>@SeesAll</c> =
    /// <see cref="SeesEveryWorkspace"/>, <c>@UserId</c>): <see cref="CanReadWorkspace"/> for lists.
    /// </summary>
    public const string WorkspaceVisibleSql = "(@SeesAll OR w.owner_id = @UserId)";

    /// <summary>
    /// The SQL condition under which job <c>j</c> is visible to the caller (same parameters): those who see every
    /// workspace see every job; members the jobs they started and the jobs of their workspaces.
    /// </summary>
    public const string JobVisibleSql =
        """
        (@SeesAll OR j.initiator_id = @UserId OR EXISTS (
            SELECT 1 FROM workspace_builds b JOIN workspaces w ON w.id = b.workspace_id WHERE b.job_id = j.id AND w.owner_id = @UserId))
        """;

    /// <summary>Whether <paramref name="caller"/> reads every workspace and job (template admins and admins).</summary>
    public static bool SeesEveryWorkspace(ApiUser caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.IsAuthenticated && caller.IsTemplateAdmin;
    }

    /// <summary>Whether <paramref name="caller"/> may read a workspace owned by <paramref name="ownerId"/> (its builds, state, resources and jobs).</summary>
    public static bool CanReadWorkspace(ApiUser caller, Guid ownerId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.IsAuthenticated && (caller.Id == ownerId || caller.IsTemplateAdmin);
    }

    /// <summary>Whether <paramref name="caller"/> may build, cancel or otherwise change a workspace owned by <paramref name="ownerId"/>.</summary>
    public static bool CanChangeWorkspace(ApiUser caller, Guid ownerId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.IsAuthenticated && (caller.Id == ownerId || caller.IsAdmin);
    }

    /// <summary>
    /// Whether <paramref name="caller"/> may record a state by hand (no Terraform run): a repair tool, so it also
    /// needs the template-admin role on one's own workspace; admins on any.
    /// </summary>
    public static bool CanReplaceState(ApiUser caller, Guid ownerId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.IsAdmin || (caller.Id == ownerId && caller.IsTemplateAdmin);
    }

    /// <summary>404 unless the caller may read the workspace: a workspace one may not see does not exist for one.</summary>
    public static void RequireReadWorkspace(ApiUser caller, Guid ownerId, string workspaceName)
    {
        if (!CanReadWorkspace(caller, ownerId))
        {
            throw ApiProblemException.NotFound($"Workspace '{workspaceName}' does not exist.");
        }
    }

    /// <summary>404 when the caller cannot even see the workspace, 403 when it can see but not change it.</summary>
    public static void RequireChangeWorkspace(ApiUser caller, Guid ownerId, string ownerName, string workspaceName)
    {
        RequireReadWorkspace(caller, ownerId, workspaceName);
        if (!CanChangeWorkspace(caller, ownerId))
        {
            throw ApiProblemException.Forbidden($"Only '{ownerName}' or an admin can build or change workspace '{workspaceName}'; user '{caller.Username}' ({caller.Role}) may only read it.");
        }
    }

    /// <summary>Like <see cref="RequireChangeWorkspace"/>, for recording a state by hand.</summary>
    public static void RequireReplaceState(ApiUser caller, Guid ownerId, string ownerName, string workspaceName)
    {
        RequireReadWorkspace(caller, ownerId, workspaceName);
        if (!CanReplaceState(caller, ownerId))
        {
            throw ApiProblemException.Forbidden(caller.Id == ownerId
                ? $"Recording a state by hand needs the '{ApiRoles.TemplateAdmin}' role; user '{caller.Username}' is '{caller.Role}'. Ask an admin to do it."
                : $"Only an admin can record a state for '{ownerName}'s workspace '{workspaceName}'; user '{caller.Username}' ({caller.Role}) may only read it.");
        }
    }

    /// <summary>
    /// Like <see cref="RequireReplaceState"/>, for deleting a workspace without destroying its resources (<c>delete --orphan</c>):
    /// resources are left behind, so, as in Coder (template managers only), members must ask.
    /// </summary>
    public static void RequireOrphan(ApiUser caller, Guid ownerId, string ownerName, string workspaceName)
    {
        RequireReadWorkspace(caller, ownerId, workspaceName);
        if (!CanReplaceState(caller, ownerId))
        {
            throw ApiProblemException.Forbidden(caller.Id == ownerId
                ? $"Deleting workspace '{workspaceName}' without destroying its resources (orphan) needs the '{ApiRoles.TemplateAdmin}' role; user '{caller.Username}' is '{caller.Role}'. Delete it normally, or ask an admin."
                : $"Only an admin can orphan '{ownerName}'s workspace '{workspaceName}'; user '{caller.Username}' ({caller.Role}) may only read it.");
        }
    }

    /// <summary>
    /// Whether <paramref name="caller"/> may cancel a job. A build job belongs to its workspace's owner, a dry run to its
    /// initiator (<paramref name="workspaceOwnerId"/>; null: neither); template imports to template admins.
    /// </summary>
    public static bool CanCancelJob(ApiUser caller, Guid? workspaceOwnerId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return workspaceOwnerId is { } ownerId ? CanChangeWorkspace(caller, ownerId) : caller.IsTemplateAdmin;
    }

    /// <summary>403 unless the caller holds <paramref name="role"/> (or one above it).</summary>
    public static void RequireRole(ApiUser caller, string role)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.IsAuthenticated || !ApiRoles.Includes(caller.Role, role))
        {
            throw ApiProblemException.Forbidden($"This needs the '{role}' role; user '{caller.Username}' is '{caller.Role}'. Ask an admin to grant it.");
        }
    }
}
