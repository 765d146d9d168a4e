using System.Collections.Concurrent;

using Google.Protobuf;

using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;

namespace Provisioning.Terraform.Tests;

/// <summary>A provisioner session over a temporary directory holding a template, recording the logs it streams.</summary>
internal sealed class TestSession : IDisposable
{
    private readonly ConcurrentQueue<Log> _logs = new();

    private TestSession(string directory, Config config, Action<Log>? onLog)
    {
        Directory = directory;
        Session = new ProvisionerSession(directory, config, (log, _) =>
        {
            _logs.Enqueue(log);
            onLog?.Invoke(log);
            return ValueTask.CompletedTask;
        });
    }

    public string Directory { get; }

    public ProvisionerSession Session { get; }

    public IReadOnlyList<Log> Logs => [.. _logs];

    public string LogText => string.Join('\n', _logs.Select(log => $"{log.Level}: {log.Output}"));

    public static TestSession Create(IReadOnlyDictionary<string, string> files, ByteString? state = null, Action<Log>? onLog = null, string logLevel = "")
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("provisioning-tf-session-").FullName;
        foreach (var (name, content) in files)
        {
            var path = Path.Combine(directory, name);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }

        return new TestSession(directory, new Config { State = state ?? ByteString.Empty, ProvisionerLogLevel = logLevel }, onLog);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A killed Terraform's child may linger a moment; the temp folder is cleaned by the OS.
        }
    }
}
