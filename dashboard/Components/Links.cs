using Provisioning.Coordinator.Api.Workspaces;

namespace Provisioning.Dashboard.Components;

/// <summary>The dashboard's addresses and the words it uses for a workspace's state, in one place.</summary>
internal static class Links
{
    public static string Workspace(WorkspaceResponse workspace) => Workspace(workspace.OwnerName, workspace.Name);

    public static string Workspace(string owner, string name) => $"/workspaces/{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}";

    public static string Build(WorkspaceResponse workspace, int number) => Build(workspace.OwnerName, workspace.Name, number);

    public static string Build(string owner, string name, int number) => $"{Workspace(owner, name)}/builds/{number}";

    public static string Job(Guid id) => $"/jobs/{id}";

    /// <summary>Coder's words: a workspace is starting, running, stopping, stopped, deleting, or the build failed/was canceled.</summary>
    public static string WorkspaceStatus(BuildResponse build) => (build.Transition, build.Job.Status) switch
    {
        (_, "pending") => "pending",
        ("start", "running") => "starting",
        ("stop", "running") => "stopping",
        ("delete", "running") => "deleting",
        (_, "canceling") => "canceling",
        ("start", "succeeded") => "running",
        ("stop", "succeeded") => "stopped",
        ("delete", "succeeded") => "deleted",
        (_, "failed") => "failed",
        (_, "canceled") => "canceled",
        (_, var status) => status,
    };
}
