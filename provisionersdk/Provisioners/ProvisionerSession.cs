using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>
/// What a provisioner sees of one session: the extracted template, the session's configuration, a
/// way to stream log lines to the daemon, and a place to keep data between requests (the plan).
/// </summary>
public sealed class ProvisionerSession
{
    private readonly Func<Log, CancellationToken, ValueTask> _sendLog;

    /// <summary>Creates a session view; the host calls this after extracting the template.</summary>
    public ProvisionerSession(string workDirectory, Config config, Func<Log, CancellationToken, ValueTask> sendLog)
    {
        ArgumentException.ThrowIfNullOrEmpty(workDirectory);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sendLog);
        WorkDirectory = workDirectory;
        Config = config;
        _sendLog = sendLog;
    }

    /// <summary>The directory the template archive was extracted into; removed when the session ends.</summary>
    public string WorkDirectory { get; }

    /// <summary>The Config message that opened the session (prior state, log level).</summary>
    public Config Config { get; }

    /// <summary>Data a provisioner keeps between requests of this session, e.g. the saved plan.</summary>
    public IDictionary<string, object> Items { get; } = new Dictionary<string, object>(StringComparer.Ordinal);

    /// <summary>Streams one log line to the daemon, in order.</summary>
    public ValueTask LogAsync(LogLevel level, string output, CancellationToken cancellationToken = default) =>
        _sendLog(new Log { Level = level, Output = output }, cancellationToken);
}
