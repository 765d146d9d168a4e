using System.CommandLine;
using System.Text.Json;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;
using Provisioning.Sdk.Archives;

namespace Provisioning.Cli.Commands;

/// <summary><c>provisioning templates push|list|versions list</c>.</summary>
internal static class TemplatesCommand
{
    public static Command Create() => new("templates", "Push and list templates (directories of Terraform code).")
    {
        CreatePush(),
        CreateList(),
        new Command("versions", "A template's versions.") { CreateVersionsList() },
    };

    private static Command CreatePush()
    {
        var name = new Argument<string>("name") { Description = "The template's name (created on the first push)." };
        var directory = new Option<string>("--directory", "-d") { Description = "The template's directory.", DefaultValueFactory = _ => "." };
        var variables = CliCommon.KeyValueOption("--variable", "A template variable name=value (repeatable; wins over --variables-file).");
        var variablesFile = new Option<string?>("--variables-file") { Description = "Template variables: a JSON object, or lines of name = value (or name: value)." };
        var tags = CliCommon.KeyValueOption("--provisioner-tag", "A tag key=value a daemon must offer to run this template's jobs (repeatable).");
        var activate = new Option<bool>("--activate") { Description = "Make this version the active one once its import succeeds (--activate=false to only upload).", DefaultValueFactory = _ => true };
        var message = new Option<string?>("--message", "-m") { Description = "A note about this version." };
        var yes = CliCommon.YesOption();
        var command = new Command("push", "Pack a template directory, upload it and import it as a new version, showing the import's logs.")
        {
            name, directory, variables, variablesFile, tags, activate, message, yes,
        };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var template = parse.GetValue(name)!;
            var path = Path.GetFullPath(parse.GetValue(directory)!);
            if (!Directory.Exists(path))
            {
                throw new CliException($"Template directory {path} does not exist: pass the template's folder with -d DIR.");
            }

            var values = parse.GetValue(variablesFile) is { Length: > 0 } file ? ReadVariablesFile(file) : new Dictionary<string, string>(StringComparer.Ordinal);
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

            var (bytes, archive) = await new TemplateArchiveWriter().PackToBytesAsync(path, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Packed {archive.FileCount} file(s) from {path} ({archive.Size:N0} bytes, sha256 {archive.Sha256[..12]}).");
            var uploaded = await client.UploadFileAsync(bytes, cancellationToken).ConfigureAwait(false);
            var version = await client.CreateTemplateVersionAsync(
                template,
                new CreateTemplateVersionRequest(uploaded.Hash, null, parse.GetValue(message), [.. values.Select(pair => new NameValue(pair.Key, pair.Value))], provisionerTags, parse.GetValue(activate), Provisioner: null),
                cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Importing version {version.Name} of template '{template}' (job {version.Job.Id}).");
            await WarnWithoutMatchingDaemonAsync(client, provisionerTags, cancellationToken).ConfigureAwait(false);

            var job = await new JobFollower(client).FollowAsync(version.Job.Id, cancellationToken).ConfigureAwait(false);
            if (job.Status != "succeeded")
            {
                throw new CliException($"The import of template '{template}' version {version.Name} {job.Status}: {job.Error ?? "no error reported"}");
            }

            var imported = await client.GetTemplateVersionAsync(template, version.Name, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Template '{template}' version {imported.Name} imported{JobFollower.Duration(job)}{(imported.Active ? " and active" : " (not active)")}; "
                + $"{imported.Parameters.Count} parameter(s). Create a workspace: provisioning create NAME -t {template}");
            return 0;
        });
        return command;
    }

    /// <summary>Warns (never fails) when no online daemon offers the version's tags: its import would wait until one connects.</summary>
    private static async Task WarnWithoutMatchingDaemonAsync(ProvisioningClient client, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
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

        var matches = daemons.Any(daemon => daemon.Status != "offline"
            && (tags.Count == 0 ? daemon.Tags.Count == 0 : tags.All(tag => daemon.Tags.TryGetValue(tag.Key, out var value) && value == tag.Value)));
        if (!matches)
        {
            await Console.Error.WriteLineAsync($"warning: no connected provisioner daemon offers tags {TextTable.Tags(tags)}; the import waits until one does (provisioning provisioner start --tag ...).").ConfigureAwait(false);
        }
    }

    private static Dictionary<string, string> ReadVariablesFile(string file)
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

            TextTable.Write(
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

            TextTable.Write(
                ["name", "import", "active", "created", "message"],
                versions.Select(version => (IReadOnlyList<string>)[version.Name, version.Job.Status, version.Active ? "yes" : "", TextTable.Time(version.CreatedAt), version.Message]));
            return 0;
        });
        return command;
    }
}
