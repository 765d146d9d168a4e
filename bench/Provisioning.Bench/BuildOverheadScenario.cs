using System.Globalization;
using System.Text;

namespace Provisioning.Bench;

/// <summary>
/// What a build costs on top of Terraform: alternately, `provisioning create` of a template of R `terraform_data`
/// resources against the real fleet (<see cref="CliFleet"/>: server, one daemon, the CLI following the build to its
/// end), and the same Terraform sequence the daemon runs, bare, in a fresh directory (init, plan -out, show -json of
/// the plan, apply of the plan, show -json, graph). Medians of each, and their ratio against the targets.
/// </summary>
internal static class BuildOverheadScenario
{
    private static readonly TimeSpan TerraformTimeout = TimeSpan.FromMinutes(5);

    public static async Task<ScenarioResult> RunAsync(CliFleet fleet, int resources, int pairs, CancellationToken cancellationToken)
    {
        var template = WriteTemplate(Path.Combine(fleet.Root, "templates", $"data-{resources}"), resources);
        var name = string.Create(CultureInfo.InvariantCulture, $"data{resources}");
        await fleet.PushTemplateAsync(name, template, cancellationToken).ConfigureAwait(false);
        var pluginCache = Path.Combine(fleet.Root, "bare-plugin-cache");
        Directory.CreateDirectory(pluginCache);

        // One of each first: the daemon's first build and Terraform's first run pay for cold caches.
        await CreateAsync(fleet, $"{name}-warm", name, cancellationToken).ConfigureAwait(false);
        await BareAsync(fleet.Root, template, pluginCache, $"{name}-warm", cancellationToken).ConfigureAwait(false);

        var loadBefore = Load.Now();
        var startedAt = Load.Timestamp();
        var created = new List<double>();
        var bare = new List<double>();
        for (var i = 0; i < pairs; i++)
        {
            created.Add(await CreateAsync(fleet, $"{name}-{i}", name, cancellationToken).ConfigureAwait(false));
            bare.Add(await BareAsync(fleet.Root, template, pluginCache, $"{name}-{i}", cancellationToken).ConfigureAwait(false));
        }

        var createMedian = Median(created);
        var bareMedian = Median(bare);
        var allowed = resources <= 20 ? (1.15 * bareMedian) + 150 : 1.10 * bareMedian;
        return new ScenarioResult(
            "build",
            startedAt,
            loadBefore,
            Load.Now(),
            new Dictionary<string, int>(StringComparer.Ordinal) { ["resources"] = resources, ["pairs"] = pairs },
            [
                new Metric("provisioning create, median wall", createMedian, "ms"),
                new Metric("bare terraform sequence, median wall", bareMedian, "ms"),
                new Metric("ratio create / bare", createMedian / bareMedian, "x"),
                new Metric("overhead create - bare", createMedian - bareMedian, "ms"),
                new Metric(resources <= 20 ? "target: 1.15 x bare + 150 ms" : "target: 1.10 x bare", allowed, "ms"),
                new Metric("target met", createMedian <= allowed ? 1 : 0, "bool"),
                new Metric("provisioning create, min", created.Min(), "ms"),
                new Metric("provisioning create, max", created.Max(), "ms"),
                new Metric("bare terraform sequence, min", bare.Min(), "ms"),
                new Metric("bare terraform sequence, max", bare.Max(), "ms"),
            ]);
    }

    /// <summary>A template of <paramref name="resources"/> terraform_data resources (Terraform's built-in provider: nothing to download).</summary>
    public static string WriteTemplate(string directory, int resources)
    {
        Directory.CreateDirectory(directory);
        var text = new StringBuilder();
        for (var i = 0; i < resources; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"resource \"terraform_data\" \"r{i}\" {{\n  input = \"value-{i}\"\n}}\n\n");
        }

        File.WriteAllText(Path.Combine(directory, "main.tf"), text.ToString());
        return directory;
    }

    private static async Task<double> CreateAsync(CliFleet fleet, string workspace, string template, CancellationToken cancellationToken)
    {
        var run = (await fleet.RunCliAsync(["create", workspace, "-t", template, "-y"], cancellationToken).ConfigureAwait(false)).Require($"provisioning create {workspace}");
        return run.Elapsed.TotalMilliseconds;
    }

    /// <summary>The daemon's Terraform sequence for a workspace build, bare, in a fresh copy of the template; total wall time.</summary>
    public static async Task<double> BareAsync(string root, string template, string pluginCache, string name, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, "bare", name);
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.EnumerateFiles(template))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        var environment = new Dictionary<string, string?> { ["TF_PLUGIN_CACHE_DIR"] = pluginCache, ["TF_IN_AUTOMATION"] = "1", ["CHECKPOINT_DISABLE"] = "1" };
        string[][] steps =
        [
            ["init", "-input=false"],
            ["plan", "-input=false", "-out=plan.out"],
            ["show", "-json", "plan.out"],
            ["apply", "-input=false", "plan.out"],
            ["show", "-json"],
            ["graph"],
        ];
        double total = 0;
        foreach (var step in steps)
        {
            var run = (await ChildRun.RunAsync("terraform", step, directory, environment, TerraformTimeout, cancellationToken).ConfigureAwait(false)).Require($"terraform {step[0]}");
            total += run.Elapsed.TotalMilliseconds;
        }

        return total;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
