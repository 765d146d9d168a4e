using Google.Protobuf;

using Microsoft.Extensions.Logging;

using Provisioning.Daemon.Operability;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Daemon.Jobs;

/// <summary>
/// Terminal reports the coordinator has not acknowledged yet, on disk (invariant 3: a daemon deletes a state
/// it holds only after the coordinator has it). Each is a directory <c>{cache}/reports/{daemon}/{job}/</c>
/// (mode 0700) holding <c>completed.pb</c> or <c>failed.pb</c> (the report without its state blob) and
/// <c>state</c> (mode 0600), written to a temporary directory, fsynced and renamed into place, so a crash
/// leaves either the whole entry or none. A report the coordinator refused for good moves to
/// <c>{cache}/unaccepted/{daemon}/{job}/</c> with a <c>reason.txt</c>, never deleted by the daemon.
/// Per daemon name, like the work directories: a report can only be re-sent by the daemon that held the job.
/// See docs/decisions/0004-daemon-holds-reports-and-logs.md.
/// </summary>
internal sealed class ReportSpool(ProvisionerDaemonOptions options, ILogger logger)
{
    private const string CompletedFile = "completed.pb";
    private const string FailedFile = "failed.pb";
    private const string StateFile = "state";
    private const string ReasonFile = "reason.txt";
    private const string TemporaryPrefix = ".writing-";

    /// <summary>Where unacknowledged reports wait.</summary>
    public string Directory { get; } = options.ReportsDirectory;

    /// <summary>Where reports (and leftover states) the coordinator will never take are kept for an operator.</summary>
    public string UnacceptedDirectory { get; } = options.UnacceptedDirectory;

    public string EntryOf(string jobId) => Path.Combine(Directory, ProvisionerDaemonOptions.SafeDirectoryName(jobId));

    public bool Contains(string jobId) => System.IO.Directory.Exists(EntryOf(jobId));

    /// <summary>Writes <paramref name="report"/> durably, replacing an earlier entry of the same job.</summary>
    public async Task SaveAsync(TerminalReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        DurableFiles.CreateOwnerOnlyDirectory(Directory);
        var temporary = Path.Combine(Directory, TemporaryPrefix + Guid.NewGuid().ToString("N"));
        DurableFiles.CreateOwnerOnlyDirectory(temporary);
        try
        {
            var (name, message) = report.Completed is { } completed ? (CompletedFile, WithoutState(completed)) : (FailedFile, (IMessage)WithoutState(report.Failed!));
            await DurableFiles.WriteAsync(Path.Combine(temporary, name), message.ToByteArray(), cancellationToken).ConfigureAwait(false);
            if (report.State is { IsEmpty: false } state)
            {
                await DurableFiles.WriteAsync(Path.Combine(temporary, StateFile), state.Memory, cancellationToken).ConfigureAwait(false);
            }

            DurableFiles.SyncDirectory(temporary);
            var entry = EntryOf(report.JobId);
            if (System.IO.Directory.Exists(entry))
            {
                // A refused completion re-spooled as a failure: the new report supersedes the old one.
                System.IO.Directory.Delete(entry, recursive: true);
            }

            System.IO.Directory.Move(temporary, entry);
            DurableFiles.SyncDirectory(Directory);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Reads every spooled report, oldest first; unreadable entries are moved to the unaccepted directory (never deleted).</summary>
    public IReadOnlyList<TerminalReport> LoadAll()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var reports = new List<(DateTime Written, TerminalReport Report)>();
        foreach (var entry in System.IO.Directory.EnumerateDirectories(Directory))
        {
            var name = Path.GetFileName(entry);
            if (name.StartsWith(TemporaryPrefix, StringComparison.Ordinal))
            {
                // A write the daemon did not finish: its report was never sent (the send follows the write), so
                // the job is still reported by nothing but the coordinator's reaper; nothing in it is complete.
                TryDelete(entry);
                continue;
            }

            try
            {
                reports.Add((System.IO.Directory.GetLastWriteTimeUtc(entry), Read(entry, name)));
            }
            catch (Exception ex) when (ex is IOException or InvalidProtocolBufferException or UnauthorizedAccessException or InvalidDataException)
            {
                var kept = Unaccept(name, entry, $"The spooled report could not be read: {ex.Message}");
                DaemonLog.SpoolUnreadable(logger, ex, entry, kept);
            }
        }

        return [.. reports.OrderBy(report => report.Written).Select(report => report.Report)];
    }

    /// <summary>Removes a report the coordinator acknowledged.</summary>
    public void Remove(string jobId)
    {
        var entry = EntryOf(jobId);
        if (!System.IO.Directory.Exists(entry))
        {
            return;
        }

        System.IO.Directory.Delete(entry, recursive: true);
        DurableFiles.SyncDirectory(Directory);
    }

    /// <summary>Moves a report the coordinator refused for good to the unaccepted directory, with the reason; returns where it is now.</summary>
    public string MoveToUnaccepted(string jobId, string reason) =>
        Unaccept(ProvisionerDaemonOptions.SafeDirectoryName(jobId), EntryOf(jobId), reason);

    /// <summary>Keeps a directory (a spooled report, or a leftover work directory with state) under the unaccepted directory with the reason; returns where it is now.</summary>
    public string Unaccept(string name, string source, string reason)
    {
        DurableFiles.CreateOwnerOnlyDirectory(UnacceptedDirectory);
        var target = Path.Combine(UnacceptedDirectory, name);
        if (System.IO.Directory.Exists(target))
        {
            // Never overwrite what an operator has not looked at yet.
            target += "-" + DateTime.UtcNow.ToString("yyyyMMddTHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        }

        if (System.IO.Directory.Exists(source))
        {
            System.IO.Directory.Move(source, target);
        }
        else
        {
            DurableFiles.CreateOwnerOnlyDirectory(target);
        }

        File.WriteAllText(Path.Combine(target, ReasonFile), reason + Environment.NewLine);
        DurableFiles.SyncDirectory(UnacceptedDirectory);
        return target;
    }

    private static TerminalReport Read(string entry, string name)
    {
        var statePath = Path.Combine(entry, StateFile);
        ByteString? state = File.Exists(statePath) ? ByteString.CopyFrom(File.ReadAllBytes(statePath)) : null;
        var completedPath = Path.Combine(entry, CompletedFile);
        if (File.Exists(completedPath))
        {
            var completed = CompletedJob.Parser.ParseFrom(File.ReadAllBytes(completedPath));
            return new TerminalReport(RequireJobId(completed.JobId, name), completed, null, state);
        }

        var failedPath = Path.Combine(entry, FailedFile);
        if (File.Exists(failedPath))
        {
            var failed = FailedJob.Parser.ParseFrom(File.ReadAllBytes(failedPath));
            return new TerminalReport(RequireJobId(failed.JobId, name), null, failed, state);
        }

        throw new InvalidDataException($"Neither {CompletedFile} nor {FailedFile} is in it.");
    }

    private static string RequireJobId(string jobId, string directoryName) =>
        ProvisionerDaemonOptions.SafeDirectoryName(jobId) == directoryName
            ? jobId
            : throw new InvalidDataException($"It names job '{jobId}', not the job its directory is named after.");

    private static CompletedJob WithoutState(CompletedJob completed)
    {
        var copy = completed.Clone();
        if (copy.WorkspaceBuild is { } build)
        {
            build.State = null;
        }

        return copy;
    }

    private static FailedJob WithoutState(FailedJob failed)
    {
        var copy = failed.Clone();
        if (copy.WorkspaceBuild is { } build)
        {
            build.State = null;
        }

        return copy;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next start.
        }
    }
}
