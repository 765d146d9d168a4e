using CliWrap;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// Runs Terraform as the leader of its own process group (through <c>setsid</c>, on Linux), so that
/// after a cancellation the scripts it started can be ended too. Terraform stops a <c>local-exec</c>
/// by killing its shell, which orphans whatever the shell was running (a <c>sleep</c>, an installer):
/// left alone, a canceled build's script would keep changing things after the job reported canceled.
/// </summary>
internal static class ProcessGroup
{
    private static readonly Lazy<string?> SetsidPath = new(() => OperatingSystem.IsLinux()
        ? new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
        : null);

    public static bool IsSupported => SetsidPath.Value is not null;

    /// <summary>The command to start: <c>setsid TERRAFORM ARGS…</c> where supported, else Terraform itself.</summary>
    public static Command Wrap(string executable, IReadOnlyList<string> arguments) =>
        SetsidPath.Value is { } setsid
            ? CliWrap.Cli.Wrap(setsid).WithArguments([executable, .. arguments])
            : CliWrap.Cli.Wrap(executable).WithArguments(arguments);

    /// <summary>Kills what is left of the group led by <paramref name="leaderProcessId"/>; best effort.</summary>
    public static async Task KillAsync(int leaderProcessId)
    {
        if (!IsSupported || leaderProcessId <= 0)
        {
            return;
        }

        // setsid execs Terraform in place (a child of .NET is never a group leader, so it need not fork):
        // the process id is the group id.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await CliWrap.Cli.Wrap("kill")
                .WithArguments(["-KILL", "--", "-" + leaderProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(timeout.Token)
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Nothing left to kill, or no kill(1): the orphans, if any, end on their own.
        }
    }
}
