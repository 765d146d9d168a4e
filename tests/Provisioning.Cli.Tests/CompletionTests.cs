using Provisioning.Testing;

namespace Provisioning.Cli.Tests;

/// <summary>
/// `provisioning completion bash|zsh|fish`: each script is loaded into the real shell, which then completes a partial
/// command line by running the built `provisioning` (on PATH, as a user has it). bash is driven through its completion
/// variables (COMP_LINE, COMP_WORDS), fish through `complete -C`; zsh's completion widget needs a terminal, so its
/// script runs with `words`/`CURRENT` set and `compadd` recording what it is given.
/// </summary>
public sealed class CompletionTests
{
    private static readonly TimeSpan ShellTimeout = TimeSpan.FromSeconds(60);

    private static string CliDirectory => Path.GetDirectoryName(CliFleetFixture.Executable)!;

    [Fact]
    public async Task Bash_CompletesSubcommandsAndOptionsByPrefix()
    {
        var script = await ScriptAsync("bash");
        var result = await ShellAsync("bash", $$"""
            source '{{script}}'
            complete -p provisioning
            try() { COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< "$1"; [[ "$1" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _provisioning_complete; echo "[$1] ${COMPREPLY[*]}"; }
            try "provisioning templates p"
            try "provisioning templates push x --prov"
            try "provisioning completion "
            """);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("complete -o default -F _provisioning_complete provisioning", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("[provisioning templates p] presets push\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("[provisioning templates push x --prov] --provisioner --provisioner-tag\n", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"\[provisioning completion \] .*\bbash\b.*\bfish\b.*\bzsh\b", result.Stdout);
    }

    [Fact]
    public async Task Fish_CompletesSubcommandsAndOptionsByPrefix()
    {
        var script = await ScriptAsync("fish");
        var result = await ShellAsync("fish", $"""
            source '{script}'
            echo '[templates p]'; complete -C 'provisioning templates p'
            echo '[push --provisioner-]'; complete -C 'provisioning templates push x --provisioner-'
            """, "--no-config");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("[templates p]\npresets\npush\n[push --provisioner-]\n--provisioner-tag\n", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zsh_HandsTheSuggestionsForTheWordsBeforeTheCursorToCompadd()
    {
        var script = await ScriptAsync("zsh");
        var result = await ShellAsync("zsh", $$"""
            compdef() { print -r -- "compdef $*" }
            compadd() { [[ "$1" == "--" ]] && shift; print -r -- "compadd $*" }
            source '{{script}}'
            words=(provisioning templates p); CURRENT=3; _provisioning
            words=(provisioning templates push x --provisioner-); CURRENT=5; _provisioning
            """, "-f");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("compdef _provisioning provisioning\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("compadd presets push --help\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("compadd --provisioner-tag\n", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_ForAnUnknownShell_FailsNamingTheShellsItKnows()
    {
        var result = await ProcessRunner.RunAsync(CliFleetFixture.Executable, ["completion", "tcsh"], ShellTimeout);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("'tcsh' not recognized", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("'fish'", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> ScriptAsync(string shell)
    {
        RequireShell(shell);
        var result = await ProcessRunner.RunAsync(CliFleetFixture.Executable, ["completion", shell], ShellTimeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        var path = Path.Combine(Directory.CreateTempSubdirectory("provisioning-completion-").FullName, "provisioning." + shell);
        await File.WriteAllTextAsync(path, result.Stdout, TestContext.Current.CancellationToken);
        return path;
    }

    private static async Task<CliResult> ShellAsync(string shell, string commands, params string[] flags)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("provisioning-completion-").FullName, "test." + shell);
        await File.WriteAllTextAsync(path, commands.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n", TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string> { ["PATH"] = CliDirectory + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH") };
        return await ProcessRunner.RunAsync(shell, [.. flags, path], ShellTimeout, environment);
    }

    private static void RequireShell(string shell)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(directory => File.Exists(Path.Combine(directory, shell)));
        if (found)
        {
            return;
        }

        var reason = $"{shell} is not installed (apt-get install {shell}; .ci/run installs it).";
        if (SharedFolder.IsCi)
        {
            Assert.Fail(reason + " Under CI=true it must be present.");
        }

        Assert.Skip(reason);
    }
}
