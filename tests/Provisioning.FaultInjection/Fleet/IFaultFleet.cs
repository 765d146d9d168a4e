namespace Provisioning.FaultInjection.Fleet;

/// <summary>
/// What a round needs of a fleet: the coordinator's API, where the template's markers are, and a way back to health
/// after a fault. The process fleet (<see cref="ProvisioningFleet"/>) and the container fleet of
/// tests/Provisioning.ContainerFaultTests both provide it, so both run the same rounds and checks.
/// </summary>
internal interface IFaultFleet
{
    CoordinatorApi Api { get; }

    /// <summary>Where the template's workspaces keep their markers: {MarkersRoot}/{workspace}/markers.</summary>
    string MarkersRoot { get; }

    /// <summary>Brings every part back to health; returns what it had to repair that the fault did not announce.</summary>
    Task<IReadOnlyList<string>> HealAsync(CancellationToken cancellationToken);
}
