using System.Globalization;

namespace Provisioning.FaultInjection.Checks;

/// <summary>What the template left on disk for one workspace (see Template/main.tf): markers, lock violations, provisioner runs.</summary>
internal sealed class WorkspaceDisk(string markersRoot, string workspace)
{
    public string Workspace { get; } = workspace;

    public string Directory { get; } = Path.Combine(markersRoot, workspace);

    /// <summary>The resources whose marker exists: created and not destroyed since.</summary>
    public IReadOnlyList<Marker> Markers() =>
        [.. List("markers").Where(name => !name.StartsWith('.')).Order(StringComparer.Ordinal).Select(ReadMarker)];

    /// <summary>The contents of each violation file: a provisioner that found the workspace's lock taken by another apply.</summary>
    public IReadOnlyList<string> LockViolations() =>
        [.. List("violations").Order(StringComparer.Ordinal).Select(name => File.ReadAllText(Path.Combine(Directory, "violations", name)).Trim())];

    public IReadOnlyList<ProvisionerRun> Runs()
    {
        var log = Path.Combine(Directory, "runs.log");
        if (!File.Exists(log))
        {
            return [];
        }

        var runs = new List<ProvisionerRun>();
        foreach (var line in File.ReadAllLines(log))
        {
            var words = line.Split(' ', 2);
            if (words.Length < 2)
            {
                continue; // A line cut short by a kill.
            }

            var fields = words[1].Split(' ').Select(field => field.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
            if (fields.TryGetValue("at", out var at) && double.TryParse(at, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                runs.Add(new ProvisionerRun(words[0], fields.GetValueOrDefault("build", "?"), fields.GetValueOrDefault("resource", "?"), fields.GetValueOrDefault("action", "?"), seconds, fields.GetValueOrDefault("job_dir", "?")));
            }
        }

        return runs;
    }

    private Marker ReadMarker(string name)
    {
        string content;
        try
        {
            content = File.ReadAllText(Path.Combine(Directory, "markers", name)).Trim();
        }
        catch (FileNotFoundException)
        {
            content = string.Empty; // Destroyed between the listing and the read.
        }

        var fields = content.Split(' ').Select(field => field.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        return new Marker(name, fields.GetValueOrDefault("build", "?"), fields.GetValueOrDefault("job_dir", "?"));
    }

    private IEnumerable<string> List(string folder)
    {
        var path = Path.Combine(Directory, folder);
        return System.IO.Directory.Exists(path) ? System.IO.Directory.EnumerateFiles(path).Select(Path.GetFileName).OfType<string>() : [];
    }
}
