using System.Text;
using System.Text.Json;

using CliWrap;

using Provisioning.Testing;

namespace Provisioning.Terraform.Tests.CoderProvider;

/// <summary>
/// Real Terraform run by hand in a work directory against the coder test provider's mirror (as an operator would with
/// TF_CLI_CONFIG_FILE), with an environment the test chooses. Each command is bounded in time.
/// </summary>
internal sealed class TerraformRun : IDisposable
{
    private readonly CoderProviderMirror _mirror;
    private readonly string _cliConfig;

    public TerraformRun(string mainTf)
        : this()
    {
        File.WriteAllText(Path.Combine(WorkDirectory, "main.tf"), mainTf);
    }

    private TerraformRun()
    {
        Terraform = TerraformRequirement.Require();
        _mirror = CoderProviderMirror.Create();
        WorkDirectory = Directory.CreateTempSubdirectory("provisioning-coder-provider-").FullName;
        _cliConfig = _mirror.WriteCliConfig(Path.Combine(WorkDirectory, "..", Path.GetFileName(WorkDirectory) + ".terraformrc"));
    }

    /// <summary>A run over a copy of <paramref name="source"/>'s .tf files (modules included), each passed through <paramref name="rewrite"/>.</summary>
    public static TerraformRun FromDirectory(string source, Func<string, string> rewrite)
    {
        var run = new TerraformRun();
        foreach (var file in Directory.EnumerateFiles(source, "*.tf", SearchOption.AllDirectories))
        {
            var target = Path.Combine(run.WorkDirectory, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllText(target, rewrite(File.ReadAllText(file)));
        }

        return run;
    }

    public string Terraform { get; }

    public string WorkDirectory { get; }

    /// <summary>Runs terraform with <paramref name="arguments"/>; <paramref name="environment"/> adds to (or, with null, removes from) the test's environment.</summary>
    public async Task<(int ExitCode, string Output, string Errors)> RunAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["TF_CLI_CONFIG_FILE"] = _cliConfig,
            ["TF_IN_AUTOMATION"] = "1",
            ["CHECKPOINT_DISABLE"] = "1",
            ["TF_PLUGIN_CACHE_DIR"] = null,
        };
        foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>().Where(name => name.StartsWith("CODER_", StringComparison.Ordinal)))
        {
            variables[name] = null;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        var output = new StringBuilder();
        var errors = new StringBuilder();
        var result = await Cli.Wrap(Terraform).WithArguments(arguments).WithWorkingDirectory(WorkDirectory)
            .WithEnvironmentVariables(variables)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(errors))
            .ExecuteAsync(timeout.Token);
        return (result.ExitCode, output.ToString(), errors.ToString());
    }

    /// <summary>Runs a command that must succeed.</summary>
    public async Task<string> SucceedAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var (exitCode, output, errors) = await RunAsync(arguments, environment, cancellationToken);
        Assert.True(exitCode == 0, $"terraform {string.Join(' ', arguments)} exited with {exitCode}:\n{output}\n{errors}");
        return output;
    }

    /// <summary>The resources of <c>terraform show -json</c>'s state, by address, with their values.</summary>
    public async Task<Dictionary<string, JsonElement>> StateAsync(CancellationToken cancellationToken)
    {
        var json = await SucceedAsync(["show", "-json"], cancellationToken: cancellationToken);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("values").GetProperty("root_module").GetProperty("resources").EnumerateArray()
            .ToDictionary(resource => resource.GetProperty("address").GetString()!, resource => resource.GetProperty("values").Clone());
    }

    public void Dispose()
    {
        _mirror.Dispose();
        try
        {
            File.Delete(_cliConfig);
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A provider process may still be ending; the temporary folder is cleaned by the OS.
        }
    }
}
