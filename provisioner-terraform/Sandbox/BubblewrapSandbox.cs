using System.Collections;
using System.Globalization;
using System.Text;

using CliWrap;

using Provisioning.Terraform.Binaries;

namespace Provisioning.Terraform.Sandbox;

/// <summary>
/// Runs a Terraform command inside bubblewrap, so that a template (which is code: <c>local-exec</c>, external
/// data sources, providers) sees only what the command needs: its own work directory, the provider cache,
/// the Terraform binary and read-only system directories; not the daemon's home (with the coordinator's
/// session token and database), other jobs' work directories, secrets under /etc, or any process outside
/// the sandbox (a PID namespace with its own /proc, so no <c>/proc/PID/environ</c> of the server). The
/// environment is rebuilt from scratch. The network stays: providers download, and templates reach what
/// they manage. Why this design and what it costs: <c>docs/decisions/0005-built-in-daemon-isolation.md</c>.
/// </summary>
internal sealed class BubblewrapSandbox
{
    /// <summary>What the sandboxed command sees as PATH: system directories only (the daemon's PATH may point into hidden homes).</summary>
    internal const string SandboxPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Top-level system directories bound read-only when they exist (symlinks, as in merged-/usr systems, are recreated as symlinks).</summary>
    private static readonly string[] SystemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];

    private static readonly Lazy<IReadOnlyList<(string Path, bool IsDirectory)>> PrivateEtcEntries = new(FindPrivateEtcEntries);

    private readonly bool _disableNestedUserNamespaces;

    private BubblewrapSandbox(string executable, Version version)
    {
        Executable = executable;
        Version = version;
        // --disable-userns came with bubblewrap 0.8.
        _disableNestedUserNamespaces = version >= new Version(0, 8);
    }

    public string Executable { get; }

    public Version Version { get; }

    public override string ToString() => $"bubblewrap {Version} ({Executable})";

    /// <summary>
    /// Finds bubblewrap (<paramref name="configuredPath"/>, else <c>bwrap</c> on PATH) and runs a command in a sandbox
    /// built exactly as Terraform's will be. Returns the sandbox, or null with the reason it cannot be used.
    /// </summary>
    public static async Task<(BubblewrapSandbox? Sandbox, string Reason)> ProbeAsync(string? configuredPath, CancellationToken cancellationToken = default)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "bubblewrap runs on Linux only");
        }

        var executable = configuredPath ?? FindOnPath("bwrap");
        if (executable is null)
        {
            return (null, "bubblewrap (bwrap) is not installed; install it (Debian/Ubuntu: apt-get install bubblewrap)");
        }

        if (!File.Exists(executable))
        {
            return (null, $"the bubblewrap executable '{executable}' does not exist; install bubblewrap (apt-get install bubblewrap) or fix the path");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        Version version;
        try
        {
            var versionOutput = new StringBuilder();
            var result = await Cli.Wrap(executable).WithArguments(["--version"])
                .WithValidation(CommandResultValidation.None)
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(versionOutput))
                .ExecuteAsync(timeout.Token).ConfigureAwait(false);
            var words = versionOutput.ToString().Trim().Split(' ');
            if (result.ExitCode != 0 || words.Length < 2 || !Version.TryParse(words[^1], out var parsed))
            {
                return (null, $"'{executable} --version' did not print a bubblewrap version (exit code {result.ExitCode}); reinstall bubblewrap");
            }

            version = parsed;
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"'{executable}' could not be run: {exception.Message}");
        }

        var sandbox = new BubblewrapSandbox(executable, version);
        var probeDirectory = Path.Combine(Path.GetTempPath(), "provisioning-sandbox-probe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(probeDirectory);
        try
        {
            var output = new StringBuilder();
            var errors = new StringBuilder();
            var arguments = sandbox.Arguments(probeDirectory, readOnly: [], readWrite: [])
                .Concat(["--", "/bin/sh", "-c", "echo sandboxed > probe && cat probe"]);
            var result = await Cli.Wrap(executable).WithArguments(arguments)
                .WithEnvironmentVariables(sandbox.Environment(new Dictionary<string, string?>(), System.Environment.GetEnvironmentVariables()))
                .WithValidation(CommandResultValidation.None)
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(errors))
                .ExecuteAsync(timeout.Token).ConfigureAwait(false);
            if (result.ExitCode != 0 || output.ToString().Trim() != "sandboxed")
            {
                var said = errors.ToString().Trim();
                return (null, $"bubblewrap {version} failed its self-test (exit code {result.ExitCode}{(said.Length > 0 ? ": " + said : "")}); " +
                    "it needs user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) or to run as root");
            }
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"bubblewrap's self-test could not run: {exception.Message}");
        }
        finally
        {
            try
            {
                Directory.Delete(probeDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover empty probe directory in /tmp is harmless.
            }
        }

        return (sandbox, "");
    }

    /// <summary>The executable and arguments that run <paramref name="binary"/> with <paramref name="arguments"/> in the sandbox.</summary>
    /// <param name="environment">The sandbox's environment (<see cref="Environment"/>): a CLI configuration file it names is made visible.</param>
    public IReadOnlyList<string> Wrap(TerraformBinary binary, string workDirectory, TerraformOptions options, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var (readOnly, readWrite) = SandboxView.Paths(options, arguments, environment);
        readOnly.Insert(0, binary.Path);
        return [.. Arguments(workDirectory, readOnly, readWrite), "--", binary.Path, .. arguments];
    }

    /// <summary>
    /// The sandbox's environment, given to bubblewrap's own process (never on its command line, where <c>ps</c> would show
    /// the workspace owner's tokens): every variable of the daemon removed except locale, proxy and CA settings and the
    /// <c>TF_*</c> settings Terraform always got, then Terraform's environment for this run, PATH and HOME.
    /// </summary>
    public Dictionary<string, string?> Environment(IReadOnlyDictionary<string, string?> terraformEnvironment, IDictionary hostEnvironment) =>
        SandboxView.Environment(terraformEnvironment, hostEnvironment, SandboxPath, HomeDirectory);

    /// <summary>
    /// Sends SIGINT to the Terraform process of a sandbox whose bubblewrap process is <paramref name="bubblewrapProcessId"/>:
    /// bubblewrap itself does not forward signals (an interrupt would just end it, and with it the sandbox, before
    /// Terraform saved its state). Terraform is bubblewrap's child (<c>--as-pid-1</c>: the sandbox's init, which receives
    /// the signals it handles, as Terraform does SIGINT). Retried until the child exists and runs Terraform, in case the
    /// cancel comes while the sandbox is still being set up.
    /// </summary>
    public static async Task InterruptAsync(int bubblewrapProcessId, string terraformPath, CancellationToken stopTrying)
    {
        while (!stopTrying.IsCancellationRequested)
        {
            var terraform = Children(bubblewrapProcessId).FirstOrDefault(child => Runs(child, terraformPath));
            if (terraform > 0)
            {
                await Signal("-INT", terraform).ConfigureAwait(false);
                return;
            }

            if (!Directory.Exists("/proc/" + bubblewrapProcessId.ToString(CultureInfo.InvariantCulture)))
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), stopTrying).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                // The kill came (or the run ended): nothing left to interrupt.
                return;
            }
        }
    }

    private static string HomeDirectory
    {
        get
        {
            // The daemon user's home path, emptied: `~` in a template means the same path as without the sandbox.
            var home = System.Environment.GetEnvironmentVariable("HOME");
            return home is { Length: > 1 } && Path.IsPathFullyQualified(home) && !SystemDirectories.Any(system => IsUnder(home, system))
                ? home
                : "/home/provisioning";
        }
    }

    private List<string> Arguments(string workDirectory, IReadOnlyList<string> readOnly, IReadOnlyList<string> readWrite)
    {
        List<string> arguments =
        [
            // A user namespace even as root: the sandbox's root then holds no capability over the host.
            "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            // Terraform is the PID namespace's init: when it exits the kernel ends everything a template left running
            // in it. Not --die-with-parent: its death signal follows the *thread* that started bubblewrap, and .NET
            // retires idle thread-pool threads, which would kill a long build.
            "--as-pid-1",
            "--cap-drop", "ALL",
        ];
        if (_disableNestedUserNamespaces)
        {
            arguments.Add("--disable-userns");
        }

        foreach (var directory in SystemDirectories)
        {
            var info = new FileInfo(directory);
            if (info.LinkTarget is { } target)
            {
                arguments.AddRange(["--symlink", target, directory]);
            }
            else if (Directory.Exists(directory))
            {
                arguments.AddRange(["--ro-bind", directory, directory]);
            }
        }

        // Files under /etc that only their owner or group may read (shadow, SSH host keys, TLS private keys, …) are
        // secrets of the host; the sandbox may run as the same user, so they are covered rather than trusted to modes.
        foreach (var (path, isDirectory) in PrivateEtcEntries.Value)
        {
            arguments.AddRange(isDirectory ? ["--tmpfs", path] : ["--ro-bind", "/dev/null", path]);
        }

        var home = HomeDirectory;
        arguments.AddRange(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run", "--tmpfs", home]);
        foreach (var path in readWrite.Where(Exists))
        {
            arguments.AddRange(["--bind", path, path]);
        }

        foreach (var path in readOnly.Where(Exists))
        {
            arguments.AddRange(["--ro-bind", path, path]);
        }

        arguments.AddRange(["--bind", workDirectory, workDirectory, "--chdir", workDirectory]);
        return arguments;
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    private static bool IsUnder(string path, string directory) =>
        path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal);

    private static List<(string Path, bool IsDirectory)> FindPrivateEtcEntries()
    {
        var found = new List<(string, bool)>();
        if (OperatingSystem.IsWindows() || !Directory.Exists("/etc"))
        {
            return found;
        }

        var pending = new Stack<string>();
        pending.Push("/etc");
        while (pending.Count > 0)
        {
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(pending.Pop()).ToList();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var entry in entries)
            {
                FileSystemInfo info = Directory.Exists(entry) ? new DirectoryInfo(entry) : new FileInfo(entry);
                if (info.LinkTarget is not null)
                {
                    continue;
                }

                var isDirectory = info is DirectoryInfo;
                var worldReadable = (info.UnixFileMode & UnixFileMode.OtherRead) != 0
                    && (!isDirectory || (info.UnixFileMode & UnixFileMode.OtherExecute) != 0);
                if (!worldReadable)
                {
                    found.Add((entry, isDirectory));
                }
                else if (isDirectory)
                {
                    pending.Push(entry);
                }
            }
        }

        return found;
    }

    private static string? FindOnPath(string name) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Child process ids of <paramref name="processId"/>, oldest first (Linux's per-task children list).</summary>
    private static List<int> Children(int processId)
    {
        var id = processId.ToString(CultureInfo.InvariantCulture);
        try
        {
            return File.ReadAllText($"/proc/{id}/task/{id}/children")
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(child => int.Parse(child, CultureInfo.InvariantCulture))
                .OrderBy(StartTime)
                .ToList();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return [];
        }
    }

    /// <summary>Whether the process has executed <paramref name="executable"/> (before that it is still bubblewrap setting up).</summary>
    private static bool Runs(int processId, string executable)
    {
        try
        {
            var arguments = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0');
            // argv[0] for a binary; argv[1] after the interpreter for a script (as test stand-ins are).
            return arguments.Take(2).Contains(executable, StringComparer.Ordinal);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long StartTime(int processId)
    {
        try
        {
            // Field 22 of stat; the command name (field 2) may hold spaces, so count from its closing parenthesis.
            var stat = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return long.MaxValue;
        }
    }

    private static async Task Signal(string signal, int processId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await Cli.Wrap("kill")
                .WithArguments([signal, processId.ToString(CultureInfo.InvariantCulture)])
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(timeout.Token)
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // The process is gone, or no kill(1): the forceful kill after the grace period still ends the sandbox.
        }
    }
}
