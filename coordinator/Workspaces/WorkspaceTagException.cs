namespace Provisioning.Coordinator.Workspaces;

/// <summary>A workspace tag's expression cannot be evaluated; <see cref="WorkspaceTagEvaluator"/> turns it into a 400 naming the tag.</summary>
internal sealed class WorkspaceTagException(string message) : Exception(message);
