namespace Provisioning.FaultInjection.Faults;

/// <summary>
/// What a round's fault did: which process it hit, while which job ran, and when; the checker uses
/// <see cref="RevokedDaemon"/> and <see cref="RevokedAtUnixSeconds"/> to tell whether a revoked daemon kept working.
/// </summary>
internal sealed record FaultRecord(FaultKind Kind, string Description)
{
    /// <summary>
    /// The name violations and notes are printed under: the kind's (e.g. `daemon-kill`), unless the fault is a variant
    /// of it, such as the container fault tests' `daemon-container-kill`.
    /// </summary>
    public string Name { get; init; } = FaultKinds.Name(Kind);

    /// <summary>The job that was running when the fault hit (null: none was).</summary>
    public Guid? JobAtInjection { get; init; }

    /// <summary>The daemon whose key a <see cref="FaultKind.KeyRevoke"/> deleted.</summary>
    public string? RevokedDaemon { get; init; }

    public double? RevokedAtUnixSeconds { get; init; }

    /// <summary>
    /// Daemons this fault SIGKILLed while they ran <see cref="JobAtInjection"/>. Terraform dies with its daemon (its
    /// stdout is the daemon's pipe: SIGPIPE), so what that job created is in no state the coordinator has; the checker
    /// reports such resources as notes, apart from violations (see the README and docs/decisions/0006).
    /// </summary>
    public IReadOnlyList<string> KilledDaemons { get; init; } = [];

    /// <summary>A record for a round whose fault has not hit yet.</summary>
    public static FaultRecord Pending(FaultKind kind) => new(kind, "not injected yet");

    public override string ToString() => $"{Name}: {Description}";
}
