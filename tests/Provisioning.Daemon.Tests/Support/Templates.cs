using Google.Protobuf;

using Provisioning.Sdk.Archives;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Daemon.Tests.Support;

/// <summary>Template archives and jobs for the daemon's tests: terraform_data and local-exec only, which work offline.</summary>
internal static class Templates
{
    public static async Task<byte[]> PackAsync(string mainTf, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("provisioning-daemon-template-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "main.tf"), mainTf, cancellationToken);
            var (bytes, _) = await new TemplateArchiveWriter().PackToBytesAsync(directory.FullName, cancellationToken);
            return bytes;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    public static AcquiredJob Import(Blob archive, params (string Name, string Value)[] userValues)
    {
        var import = new AcquiredJob.Types.TemplateImport { Metadata = new Metadata { TemplateName = "test" } };
        import.UserVariableValues.AddRange(userValues.Select(value => new VariableValue { Name = value.Name, Value = value.Value }));
        return new AcquiredJob
        {
            Provisioner = "terraform",
            JobType = JobType.TemplateVersionImport,
            TemplateSourceArchive = archive,
            TemplateImport = import,
        };
    }

    public static AcquiredJob Build(Blob archive, WorkspaceTransition transition, int buildNumber, Blob? state = null, params (string Name, string Value)[] variables)
    {
        var build = new AcquiredJob.Types.WorkspaceBuild
        {
            WorkspaceName = "dev",
            WorkspaceBuildId = Guid.NewGuid().ToString(),
            Metadata = new Metadata
            {
                WorkspaceTransition = transition,
                WorkspaceName = "dev",
                WorkspaceOwner = "alice",
                WorkspaceId = "ws-1",
                WorkspaceBuildNumber = buildNumber,
            },
            State = state ?? new Blob { Inline = ByteString.Empty },
        };
        build.VariableValues.AddRange(variables.Select(value => new VariableValue { Name = value.Name, Value = value.Value }));
        return new AcquiredJob
        {
            Provisioner = "terraform",
            JobType = JobType.WorkspaceBuild,
            TemplateSourceArchive = archive,
            WorkspaceBuild = build,
        };
    }

    public static AcquiredJob DryRun(Blob archive)
    {
        var dryRun = new AcquiredJob.Types.TemplateDryRun { Metadata = new Metadata { WorkspaceName = "preview", WorkspaceTransition = WorkspaceTransition.Start } };
        return new AcquiredJob
        {
            Provisioner = "terraform",
            JobType = JobType.TemplateVersionDryRun,
            TemplateSourceArchive = archive,
            TemplateDryRun = dryRun,
        };
    }

    /// <summary>The resource addresses in a Terraform state.</summary>
    public static IReadOnlyList<string> StateResources(ByteString state)
    {
        if (state.IsEmpty)
        {
            return [];
        }

        using var document = System.Text.Json.JsonDocument.Parse(state.ToByteArray());
        return [.. document.RootElement.GetProperty("resources").EnumerateArray().Select(resource => $"{resource.GetProperty("type").GetString()}.{resource.GetProperty("name").GetString()}")];
    }
}
