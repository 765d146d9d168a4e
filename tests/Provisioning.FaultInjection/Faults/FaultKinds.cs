namespace Provisioning.FaultInjection.Faults;

/// <summary>The printed (and --faults) names of <see cref="FaultKind"/>.</summary>
internal static class FaultKinds
{
    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.DaemonKill => "daemon-kill",
        FaultKind.DaemonStop => "daemon-stop",
        FaultKind.CoordinatorKill => "coordinator-kill",
        FaultKind.PostgresRestart => "postgres-restart",
        FaultKind.KeyRevoke => "key-revoke",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static FaultKind Parse(string name)
    {
        foreach (var kind in Enum.GetValues<FaultKind>())
        {
            if (Name(kind) == name)
            {
                return kind;
            }
        }

        throw new FormatException($"Unknown fault '{name}'; the faults are {string.Join(", ", Enum.GetValues<FaultKind>().Select(Name))}.");
    }
}
