using Google.Protobuf;

using Provisioning.Sdk.Protocol;

namespace Provisioning.Daemon.Jobs;

/// <summary>A job phase failed in an expected way (the provisioner's error, a cancellation): becomes a FailJob.</summary>
internal sealed class JobFailureException : Exception
{
    public JobFailureException()
        : this("The job failed.", JobErrorCodes.DaemonError)
    {
    }

    public JobFailureException(string message)
        : this(message, JobErrorCodes.DaemonError)
    {
    }

    public JobFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = JobErrorCodes.DaemonError;
    }

    public JobFailureException(string message, string errorCode, ByteString? state = null, IEnumerable<Timing>? timings = null)
        : base(message)
    {
        ErrorCode = errorCode;
        State = state ?? ByteString.Empty;
        Timings = [.. timings ?? []];
    }

    public string ErrorCode { get; }

    /// <summary>The state the provisioner wrote before failing; empty when none.</summary>
    public ByteString State { get; } = ByteString.Empty;

    public IReadOnlyList<Timing> Timings { get; } = [];
}
