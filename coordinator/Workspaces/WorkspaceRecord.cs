namespace Provisioning.Coordinator.Workspaces;

/// <summary>A workspace row with what the API needs of its owner and template.</summary>
internal sealed record WorkspaceRecord(Guid Id, string Name, Guid OwnerId, string OwnerName, string OwnerEmail, Guid TemplateId, string TemplateName, DateTime CreatedAt);
