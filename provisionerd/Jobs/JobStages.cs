namespace Provisioning.Daemon.Jobs;

/// <summary>The stage names the daemon marks job logs with (the reference system's wording).</summary>
internal static class JobStages
{
    public const string SettingUp = "Setting up";
    public const string Parsing = "Parsing template parameters";
    public const string DetectingPersistent = "Detecting persistent resources";
    public const string DetectingEphemeral = "Detecting ephemeral resources";
    public const string Planning = "Planning infrastructure";
    public const string Applying = "Applying changes";
    public const string CleaningUp = "Cleaning up";
}
