using System.CommandLine;
using System.Text.Json;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;
using Provisioning.Sdk.Archives;

namespace Provisioning.Cli.Commands;

/// <summary><c>provisioning templates push|list|versions list|activate|pull|logs|presets list</c>.</summary>
internal static partial class TemplatesCommand
{
    public static Command Create() => new("templates", "Push and list templates (directories of Terraform code).")
    {
        CreatePush(),
        CreateList(),
        new Command("versions", "A template's versions.") { CreateVersionsList(), CreateVersionsActivate(), CreateVersionsPull(), CreateVersionsLogs() },
        new Command("presets", "A template version's presets (named sets of parameter values).") { CreatePresetsList() },
    };

    private static Command CreatePush()
    {
        var name = new Argument<string>("name") { Description = "The template's name (created on the first push)." };
        var directory = new Option<string>("--directory", "-d") { Description = "The template's directory.", DefaultValueFactory = _ => "." };
        var variables = CliCommon.KeyValueOption("--variable", "A template variable name=value (repeatable; wins over --variables-file).");
        var variablesFile = new Option<string?>("--variables-file")
        {
            Description = "Template variables: a JSON object, or lines of name = value (or name: value); wins over the *.tfvars files found in the directory.",
        };
        var tags = CliCommon.KeyValueOption("--provisioner-tag", "A tag key=value a daemon must offer to run this template's jobs (repeatable).");
        var provisioner = new Option<string?>("--provisioner") { Description = "The provisioner that runs this template (default: terraform), e.g. one a daemon offers with --provisioner NAME=PATH; fixed by the template's first push." };
        var activate = new Option<bool>("--activate") { Description = "Make this version the active one once its import succeeds (--activate=false to only upload).", DefaultValueFactory = _ => true };
        var message = new Option<string?>("--message", "-m") { Description = "A note about this version." };
        var yes = CliCommon.YesOption();
        var command = new Command("push", "Pack a template directory, upload it and import it as a new version, showing the import's logs.")
        {
            name, directory, variables, variablesFile, tags, provisioner, activate, message, yes,
        };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var template = parse.GetValue(name)!;
            var path = Path.GetFullPath(parse.GetValue(directory)!);
            if (!Directory.Exists(path))
            {
                throw new CliException($"Template directory {path} does not exist: pass the template's folder with -d DIR.");
            }

            // As Coder's push does: *.tfvars and *.tfvars.json in the template's directory first, then the file given, then the flags.
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var found in DiscoverVariablesFiles(path))
            {
                Console.WriteLine($"Using template variables from {Path.GetFileName(found)}.");
                foreach (var (key, value) in ReadVariablesFile(found))
                {
                    values[key] = value;
                }
            }

            if (parse.GetValue(variablesFile) is { Length: > 0 } file)
            {
                foreach (var (key, value) in ReadVariablesFile(file))
                {
                    values[key] = value;
                }
            }

            if (!File.Exists(Path.Combine(path, ".terraform.lock.hcl")) && UsesProviders(path))
            {
                CliConsole.Warning($"No .terraform.lock.hcl in {path}: every build resolves provider versions anew (and may get newer ones) and cannot reuse cached providers reliably. "
                    + "Run `terraform init` in the template's directory and push the lock file with it.");
            }

            foreach (var (key, value) in CliCommon.ParsePairs(parse.GetValue(variables), "--variable"))
            {
                values[key] = value;
            }

            var provisionerTags = CliCommon.ParsePairs(parse.GetValue(tags), "--provisioner-tag");
            if (await client.FindTemplateAsync(template, cancellationToken).ConfigureAwait(false) is null
                && !CliCommon.Confirm($"Template '{template}' does not exist yet; create it?", parse.GetValue(yes)))
            {
                throw new CliException("Push canceled.");
            }

            var (bytes, archive) = await CliConsole.SpinAsync("Packing the template", () => new TemplateArchiveWriter().PackToBytesAsync(path, cancellationToken)).ConfigureAwait(false);
            Console.WriteLine($"Packed {archive.FileCount} file(s) from {path} ({archive.Size:N0} bytes, sha256 {archive.Sha256[..12]}).");
            var uploaded = await CliConsole.SpinAsync($"Uploading {archive.Size:N0} bytes", () => client.UploadFileAsync(bytes, cancellationToken)).ConfigureAwait(false);
            var version = await client.CreateTemplateVersionAsync(
                template,
                new CreateTemplateVersionRequest(uploaded.Hash, null, parse.GetValue(message), [.. values.Select(pair => new NameValue(pair.Key, pair.Value))], provisionerTags, parse.GetValue(activate), Provisioner: parse.GetValue(provisioner)),
                cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Importing version {version.Name} of template '{template}' (job {version.Job.Id}).");
            if (version.Job.Tags.Keys.Any(key => !provisionerTags.ContainsKey(key)))
            {
                // The coordinator routes the import by the template's workspace tags too, evaluated with their defaults.
                Console.WriteLine($"The template's workspace tags route its import too: tags {TextTable.Tags(version.Job.Tags)}.");
            }

            await WarnWithoutMatchingDaemonAsync(client, parse.GetValue(provisioner) ?? "terraform", version.Job.Tags, cancellationToken).ConfigureAwait(false);

            var job = await new JobFollower(client).FollowAsync(version.Job.Id, cancellationToken).ConfigureAwait(false);
            if (job.Status != "succeeded")
            {
                throw new CliException($"The import of template '{template}' version {version.Name} {job.Status}: {job.Error ?? "no error reported"}");
            }

            var imported = await client.GetTemplateVersionAsync(template, version.Name, cancellationToken).ConfigureAwait(false);
            CliConsole.Success($"Template '{template}' version {imported.Name} imported{JobFollower.Duration(job)}{(imported.Active ? " and active" : " (not active)")}; "
                + $"{imported.Parameters.Count} parameter(s), {(imported.Presets ?? []).Count} preset(s). Create a workspace: provisioning create NAME -t {template}");
            return 0;
        });
        return command;
    }

    /// <summary>Warns (never fails) when no online daemon offers the version's tags: its import would wait until one connects.</summary>
    private static async Task WarnWithoutMatchingDaemonAsync(ProvisioningClient client, string provisioner, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        IReadOnlyList<ProvisionerDaemon> daemons;
        try
        {
            daemons = await client.ListProvisionersAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ProvisioningApiException)
        {
            return; // Only admins see the fleet; the job's waiting reason still tells the others.
        }

        var matches = daemons.Any(daemon => daemon.Status != "offline" && daemon.Provisioners.Contains(provisioner, StringComparer.Ordinal)
            && (tags.Count == 0 ? daemon.Tags.Count == 0 : tags.All(tag => daemon.Tags.TryGetValue(tag.Key, out var value) && value == tag.Value)));
        if (!matches)
        {
            await Console.Error.WriteLineAsync(provisioner == "terraform"
                ? $"warning: no connected provisioner daemon offers tags {TextTable.Tags(tags)}; the import waits until one does (provisioning provisioner start --tag ...)."
                : $"warning: no connected provisioner daemon offers the {provisioner} provisioner with tags {TextTable.Tags(tags)}; the import waits until one does (provisioning provisioner start --provisioner {provisioner}=PATH --tag ...).").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether the template needs providers (so `terraform init` would write a lock file): it names required providers, or a
    /// resource or data source outside Terraform's built-in <c>terraform_*</c> ones. A template of built-ins only has no lock file to push.
    /// </summary>
    internal static bool UsesProviders(string directory) =>
        Directory.EnumerateFiles(directory, "*.tf", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}.terraform{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .Any(text => text.Contains("required_providers", StringComparison.Ordinal)
                || ProviderBlock().Matches(text).Any(match => !match.Groups["type"].Value.StartsWith("terraform_", StringComparison.Ordinal)));

    [System.Text.RegularExpressions.GeneratedRegex(@"^\s*(resource|data)\s+""(?<type>[A-Za-z0-9_-]+)""", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex ProviderBlock();

    /// <summary>The *.tfvars and *.tfvars.json files at the top of a template's directory, in name order (a later one wins).</summary>
    internal static IReadOnlyList<string> DiscoverVariablesFiles(string directory) =>
        [.. Directory.EnumerateFiles(directory)
            .Where(file => file.EndsWith(".tfvars", StringComparison.Ordinal) || file.EndsWith(".tfvars.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    internal static Dictionary<string, string> ReadVariablesFile(string file)
    {
        if (!File.Exists(file))
        {
            throw new CliException($"--variables-file {file} does not exist.");
        }

        var text = File.ReadAllText(file).Trim();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (text.StartsWith('{'))
        {
            try
            {
                foreach (var property in JsonDocument.Parse(text).RootElement.EnumerateObject())
                {
                    values[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }
            catch (JsonException exception)
            {
                throw new CliException($"--variables-file {file} is not a JSON object: {exception.Message}");
            }

            return values;
        }

        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var split = line.IndexOfAny(['=', ':']);
            if (split <= 0)
            {
                throw new CliException($"{file}:{lineNumber}: expected name = value.");
            }

            values[line[..split].Trim()] = line[(split + 1)..].Trim().Trim('"');
        }

        return values;
    }

    private static Command CreateList()
    {
        var output = CliCommon.OutputOption();
        var command = new Command("list", "List templates with their active version.") { output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var templates = await client.ListTemplatesAsync(cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(templates);
                return 0;
            }

            CliConsole.Table(
                ["name", "active version", "provisioner", "updated"],
                templates.Select(template => (IReadOnlyList<string>)[template.Name, template.ActiveVersionName ?? "-", template.Provisioner, TextTable.Time(template.UpdatedAt)]));
            return 0;
        });
        return command;
    }

    private static Command CreateVersionsList()
    {
        var name = new Argument<string>("name") { Description = "The template's name." };
        var output = CliCommon.OutputOption();
        var command = new Command("list", "List a template's versions with their import status.") { name, output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var versions = await client.ListTemplateVersionsAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(versions);
                return 0;
            }

            CliConsole.Table(
                ["name", "import", "active", "external agents", "created", "message"],
                versions.Select(version => (IReadOnlyList<string>)[
                    version.Name, version.Job.Status, version.Active ? "yes" : "", version.HasExternalAgents ? "yes" : "", TextTable.Time(version.CreatedAt), version.Message]));
            return 0;
        });
        return command;
    }

    private static Command CreateVersionsActivate()
    {
        var name = new Argument<string>("name") { Description = "The template's name." };
        var version = new Argument<string>("version") { Description = "The version to make active (new workspaces and `update` use it)." };
        var command = new Command("activate", "Make a version whose import succeeded the template's active version.") { name, version };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var activated = await client.ActivateTemplateVersionAsync(parse.GetValue(name)!, parse.GetValue(version)!, cancellationToken).ConfigureAwait(false);
            CliConsole.Success($"Version {activated.Name} is now the active version of template '{activated.TemplateName}'. Move workspaces to it with `provisioning update NAME`.");
            return 0;
        });
        return command;
    }

    private static Command CreateVersionsPull()
    {
        var name = new Argument<string>("name") { Description = "The template's name." };
        var version = new Argument<string?>("version") { Description = "The version (default: the active one).", Arity = ArgumentArity.ZeroOrOne };
        var directory = new Option<string?>("--directory", "-d") { Description = "Where to write the files (default: ./NAME); it must not exist or be empty." };
        var command = new Command("pull", "Download a template version's files into a directory.") { name, version, directory };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var template = parse.GetValue(name)!;
            var chosen = await ResolveVersionAsync(client, template, parse.GetValue(version), cancellationToken).ConfigureAwait(false);
            var target = Path.GetFullPath(parse.GetValue(directory) ?? template);
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new CliException($"{target} is not empty: pull into a new or empty directory (-d DIR), so no file of yours is overwritten.");
            }

            var hash = chosen.FileHash ?? throw new CliException($"Version {chosen.Name} of template '{template}' has no stored files.");
            Directory.CreateDirectory(target);
            await using var archive = await client.DownloadFileAsync(hash, cancellationToken).ConfigureAwait(false);
            var summary = await CliConsole.SpinAsync("Downloading", () => TemplateArchiveExtractor.ExtractAsync(archive, target, cancellationToken: cancellationToken)).ConfigureAwait(false);
            CliConsole.Success($"Wrote {summary.FileCount} file(s) of template '{template}' version {chosen.Name} to {target}.");
            return 0;
        });
        return command;
    }

    private static Command CreateVersionsLogs()
    {
        var name = new Argument<string>("name") { Description = "The template's name." };
        var version = new Argument<string?>("version") { Description = "The version (default: the newest).", Arity = ArgumentArity.ZeroOrOne };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep following until the import ends." };
        var command = new Command("logs", "Print a template version's import logs (also after the push ended).") { name, version, follow };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var template = parse.GetValue(name)!;
            var chosen = parse.GetValue(version) is { Length: > 0 } given
                ? await client.GetTemplateVersionAsync(template, given, cancellationToken).ConfigureAwait(false)
                : (await client.ListTemplateVersionsAsync(template, cancellationToken).ConfigureAwait(false)).FirstOrDefault()
                    ?? throw new CliException($"Template '{template}' has no versions yet.");
            if (parse.GetValue(follow))
            {
                var job = await new JobFollower(client).FollowAsync(chosen.Job.Id, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"Import of version {chosen.Name}: {job.Status}{(job.Error is { } error ? " — " + TerminalText.Clean(error) : string.Empty)}");
                return job.Status == "succeeded" ? 0 : 1;
            }

            await JobFollower.PrintStoredLogsAsync(client, chosen.Job.Id, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command CreatePresetsList()
    {
        var name = new Argument<string>("name") { Description = "The template's name." };
        var version = new Option<string?>("--version") { Description = "The version (default: the active one)." };
        var output = CliCommon.OutputOption();
        var command = new Command("list", "List a template version's presets and their parameter values (use one with `create --preset NAME`).") { name, version, output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var template = parse.GetValue(name)!;
            var chosen = await ResolveVersionAsync(client, template, parse.GetValue(version), cancellationToken).ConfigureAwait(false);
            var presets = await client.ListPresetsAsync(template, chosen.Name, cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(presets);
                return 0;
            }

            if (presets.Count == 0)
            {
                Console.WriteLine($"Version {chosen.Name} of template '{template}' has no presets (coder_workspace_preset).");
                return 0;
            }

            CliConsole.Table(
                ["name", "default", "description", "parameters", "prebuilds"],
                presets.Select(preset => (IReadOnlyList<string>)[
                    preset.Name, preset.Default ? "yes" : "", preset.Description, string.Join(", ", preset.Parameters.Select(item => $"{item.Name}={item.Value}")), Prebuilds(preset)]));
            return 0;
        });
        return command;
    }

    /// <summary>A preset's prebuild policy in one cell, e.g. "2 (ttl 3600s; Europe/Paris: 0 9-17 * * 1-5 → 4)".</summary>
    private static string Prebuilds(TemplatePreset preset)
    {
        if (preset.PrebuildInstances is not { } instances)
        {
            return "";
        }

        var details = new List<string>();
        if (preset.PrebuildTtlSeconds is > 0 and var ttl)
        {
            details.Add($"ttl {ttl}s");
        }

        if (preset.PrebuildScheduling is { } scheduling)
        {
            details.Add($"{scheduling.Timezone}: " + string.Join(", ", scheduling.Schedules.Select(schedule => $"{schedule.Cron} → {schedule.Instances}")));
        }

        return details.Count == 0 ? $"{instances}" : $"{instances} ({string.Join("; ", details)})";
    }

    /// <summary>The named version, or the template's active one.</summary>
    private static async Task<TemplateVersion> ResolveVersionAsync(ProvisioningClient client, string template, string? version, CancellationToken cancellationToken)
    {
        if (version is { Length: > 0 })
        {
            return await client.GetTemplateVersionAsync(template, version, cancellationToken).ConfigureAwait(false);
        }

        var found = await client.FindTemplateAsync(template, cancellationToken).ConfigureAwait(false)
            ?? throw new CliException($"Template '{template}' does not exist: see `provisioning templates list`.");
        var active = found.ActiveVersionName ?? throw new CliException($"Template '{template}' has no active version: name one.");
        return await client.GetTemplateVersionAsync(template, active, cancellationToken).ConfigureAwait(false);
    }
}
