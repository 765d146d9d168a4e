namespace Provisioning.FaultInjection.Checks;

/// <summary>A resource's marker file: the resource exists; the file says which build and job (work directory) created it.</summary>
internal sealed record Marker(string Name, string Build, string JobDirectory)
{
    public string Daemon => ProvisionerRun.Segment(JobDirectory, 0);

    public string Job => ProvisionerRun.Segment(JobDirectory, 1);

    public override string ToString() => $"{Name} (made by build {Build}, job {Job} on {Daemon})";
}
