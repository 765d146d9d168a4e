using System.Globalization;
using System.Text;
using System.Text.Json;

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
        await BareAsync(fleet.Root, template, pluginCache, $"{name}-warm", null, cancellationToken).ConfigureAwait(false);
        var steps = new Dictionary<string, List<double>>(StringComparer.Ordinal);

        var loadBefore = Load.Now();
        var startedAt = Load.Timestamp();
        var created = new List<double>();
        var bare = new List<double>();
        var phases = new List<double[]>();
        using var api = fleet.CreateApiClient();
        for (var i = 0; i < pairs; i++)
        {
            var began = DateTime.UtcNow;
            created.Add(await CreateAsync(fleet, $"{name}-{i}", name, cancellationToken).ConfigureAwait(false));
            phases.Add(await PhasesAsync(api, began, began.AddMilliseconds(created[^1]), cancellationToken).ConfigureAwait(false));
            bare.Add(await BareAsync(fleet.Root, template, pluginCache, $"{name}-{i}", steps, cancellationToken).ConfigureAwait(false));
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
                new Metric("phase: CLI start -> job created, median", Median([.. phases.Select(phase => phase[0])]), "ms"),
                new Metric("phase: job created -> a daemon started it, median", Median([.. phases.Select(phase => phase[1])]), "ms"),
                new Metric("phase: started -> completed (the daemon's job), median", Median([.. phases.Select(phase => phase[2])]), "ms"),
                new Metric("phase: completed -> CLI exited (follow end, final reads, exit), median", Median([.. phases.Select(phase => phase[3])]), "ms"),
                .. steps.Select(step => new Metric($"bare: terraform {step.Key}, median", Median(step.Value), "ms")),
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

    /// <summary>The newest job's timestamps against the CLI's start and exit: where a create's time went.</summary>
    private static async Task<double[]> PhasesAsync(HttpClient api, DateTime began, DateTime exited, CancellationToken cancellationToken)
    {
        using var jobs = JsonDocument.Parse(await api.GetStringAsync(new Uri("api/v1/jobs", UriKind.Relative), cancellationToken).ConfigureAwait(false));
        var job = jobs.RootElement.EnumerateArray().MaxBy(item => item.GetProperty("created_at").GetDateTime());
        var created = job.GetProperty("created_at").GetDateTime().ToUniversalTime();
        var started = job.GetProperty("started_at").GetDateTime().ToUniversalTime();
        var completed = job.GetProperty("completed_at").GetDateTime().ToUniversalTime();
        return [(created - began).TotalMilliseconds, (started - created).TotalMilliseconds, (completed - started).TotalMilliseconds, (exited - completed).TotalMilliseconds];
    }

    private static async Task<double> CreateAsync(CliFleet fleet, string workspace, string template, CancellationToken cancellationToken)
    {
        var run = (await fleet.RunCliAsync(["create", workspace, "-t", template, "-y"], cancellationToken).ConfigureAwait(false)).Require($"provisioning create {workspace}");
        return run.Elapsed.TotalMilliseconds;
    }

    /// <summary>The daemon's Terraform sequence for a workspace build, bare, in a fresh copy of the template; total wall time.</summary>
    public static async Task<double> BareAsync(string root, string template, string pluginCache, string name, Dictionary<string, List<double>>? steps, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(root, "bare", name);
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.EnumerateFiles(template))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        var environment = new Dictionary<string, string?> { ["TF_PLUGIN_CACHE_DIR"] = pluginCache, ["TF_IN_AUTOMATION"] = "1", ["CHECKPOINT_DISABLE"] = "1" };
        string[][] sequence =
        [
            ["init", "-input=false"],
            ["plan", "-input=false", "-out=plan.out"],
            ["show", "-json", "plan.out"],
            ["apply", "-input=false", "plan.out"],
            ["show", "-json"],
            ["graph"],
        ];
        double total = 0;
        foreach (var step in sequence)
        {
            var run = (await ChildRun.RunAsync("terraform", step, directory, environment, TerraformTimeout, cancellationToken).ConfigureAwait(false)).Require($"terraform {step[0]}");
            total += run.Elapsed.TotalMilliseconds;
            if (steps is not null)
            {
                var key = string.Join(' ', step.Where(argument => !argument.StartsWith('-')).Take(1).Concat(step.Contains("plan.out") && step[0] == "show" ? ["plan"] : []));
                (steps.TryGetValue(key, out var list) ? list : steps[key] = []).Add(run.Elapsed.TotalMilliseconds);
            }
        }

        return total;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
