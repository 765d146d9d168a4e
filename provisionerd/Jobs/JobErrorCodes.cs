namespace Provisioning.Daemon.Jobs;

/// <summary>The <c>error_code</c> values the daemon puts in FailJob.</summary>
internal static class JobErrorCodes
{
    public const string Canceled = "canceled";
    public const string DaemonError = "daemon_error";
    public const string DaemonShutdown = "daemon_shutdown";
    public const string UnsupportedJob = "unsupported_job";
    public const string InvalidTemplateArchive = "invalid_template_archive";

    /// <summary>The coordinator refused what the daemon reported (parse results, results too large or malformed).</summary>
    public const string CoordinatorRefused = "coordinator_refused";

    /// <summary>The provisioner reported an error, e.g. <c>terraform_error</c>.</summary>
    public static string ProvisionerError(string provisionerType) => provisionerType + "_error";
}
