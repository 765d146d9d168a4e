namespace Provisioning.Coordinator.Workspaces;

/// <summary>A template version's rich parameter as a build needs it.</summary>
internal sealed record WorkspaceParameter(string DefaultValue, bool Required, bool Mutable);
