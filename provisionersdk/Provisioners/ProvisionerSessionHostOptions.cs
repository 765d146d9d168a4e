using Provisioning.Sdk.Archives;

namespace Provisioning.Sdk.Provisioners;

/// <summary>Settings of <see cref="ProvisionerSessionHost"/>.</summary>
public sealed class ProvisionerSessionHostOptions
{
    /// <summary>
    /// The directory under which each session gets a fresh work directory for its template.
    /// Default: null, meaning the system temp directory (<see cref="Path.GetTempPath"/>).
    /// </summary>
    public string? WorkDirectoryRoot { get; init; }

    /// <summary>Limits applied to the template archive of each session's Config. Default: <see cref="TemplateArchiveLimits.Default"/>.</summary>
    public TemplateArchiveLimits ArchiveLimits { get; init; } = TemplateArchiveLimits.Default;

    /// <summary>
    /// How many responses (logs and completes) may wait for the transport before
    /// <see cref="ProvisionerSession.LogAsync"/> waits too. Default: 256.
    /// </summary>
    public int ResponseBufferSize { get; init; } = 256;

    /// <summary>Throws when a setting is out of range, naming the property to fix.</summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(ArchiveLimits, nameof(ArchiveLimits));
        if (ResponseBufferSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ResponseBufferSize), ResponseBufferSize, "ProvisionerSessionHostOptions.ResponseBufferSize must be positive.");
        }

        if (WorkDirectoryRoot is { Length: 0 })
        {
            throw new ArgumentException("ProvisionerSessionHostOptions.WorkDirectoryRoot must be null (system temp) or a directory path.", nameof(WorkDirectoryRoot));
        }
    }
}
