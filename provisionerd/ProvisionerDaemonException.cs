namespace Provisioning.Daemon;

/// <summary>
/// The daemon stopped for good: its credentials were refused, its provisioner cannot run, or its
/// configuration is wrong. The message says what to fix; <see cref="ExitCode"/> is what the process
/// should exit with.
/// </summary>
public sealed class ProvisionerDaemonException : Exception
{
    /// <summary>Exit code when the configuration is invalid.</summary>
    public const int ConfigurationExitCode = 2;

    /// <summary>Exit code when the coordinator refused the credentials.</summary>
    public const int AuthenticationExitCode = 3;

    /// <summary>Exit code when the provisioner (Terraform) cannot run.</summary>
    public const int ProvisionerExitCode = 4;

    public ProvisionerDaemonException()
        : this("The provisioner daemon stopped.", 1)
    {
    }

    public ProvisionerDaemonException(string message)
        : this(message, 1)
    {
    }

    public ProvisionerDaemonException(string message, Exception innerException)
        : this(message, 1, innerException)
    {
    }

    public ProvisionerDaemonException(string message, int exitCode, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code this failure calls for (never 0).</summary>
    public int ExitCode { get; }
}
