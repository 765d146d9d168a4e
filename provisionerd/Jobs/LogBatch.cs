using Provisioning.Sdk.Daemon;

namespace Provisioning.Daemon.Jobs;

/// <summary>Lines taken from a <see cref="JobLogBuffer"/> for one UpdateJob, with what to remove once acknowledged.</summary>
/// <param name="Logs">The lines to send, the dropped-lines notice first when there is one.</param>
/// <param name="LastSequence">The sequence number of the last buffered line included; -1 when none.</param>
/// <param name="Dropped">How many dropped lines the notice reported; 0 when there is no notice.</param>
internal sealed record LogBatch(IReadOnlyList<Log> Logs, long LastSequence, long Dropped);
