using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

using Google.Protobuf;

using Microsoft.Extensions.Logging;

using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;

using LogLevel = Provisioning.Sdk.Protocol.LogLevel;

namespace Provisioning.Examples.EchoProvisioner;

/// <summary>
/// A provisioner that creates nothing: it reports the resources its template's echo.json describes and
/// emits the log lines it lists, with variable and workspace values substituted. Its state is the JSON
/// of what it applied. It shows everything a provisioner must do to plug into the daemon.
/// </summary>
internal sealed partial class EchoProvisioner(ILogger<EchoProvisioner> logger) : IProvisioner
{
    private const string PlanItem = "echo.plan";

    private static readonly JsonSerializerOptions StateJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public async Task<ParseComplete> ParseAsync(ProvisionerSession session, ParseRequest request, CancellationToken cancellationToken = default)
    {
        EchoTemplate template;
        try
        {
            template = await EchoTemplate.ReadAsync(session.WorkDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch (EchoTemplateException exception)
        {
            return new ParseComplete { Error = exception.Message };
        }

        var complete = new ParseComplete();
        complete.TemplateVariables.AddRange((template.Variables ?? []).Select(variable => new TemplateVariable
        {
            Name = variable.Name,
            Type = variable.Type ?? "string",
            Description = variable.Description ?? "",
            DefaultValue = variable.Default ?? "",
            Required = variable.Default is null,
            Sensitive = variable.Sensitive,
        }));

        var readme = Path.Combine(session.WorkDirectory, "README.md");
        if (File.Exists(readme))
        {
            complete.Readme = ByteString.CopyFrom(await File.ReadAllBytesAsync(readme, cancellationToken).ConfigureAwait(false));
        }

        EchoLog.Parsed(logger, complete.TemplateVariables.Count);
        return complete;
    }

    public async Task<PlanComplete> PlanAsync(ProvisionerSession session, PlanRequest request, CancellationToken cancellationToken = default)
    {
        EchoTemplate template;
        try
        {
            template = await EchoTemplate.ReadAsync(session.WorkDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch (EchoTemplateException exception)
        {
            return new PlanComplete { Error = exception.Message };
        }

        var metadata = request.Metadata ?? new Metadata();
        var transition = TransitionName(request.Destroy ? WorkspaceTransition.Destroy : metadata.WorkspaceTransition);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new List<string>();
        foreach (var variable in template.Variables ?? [])
        {
            var given = request.VariableValues.FirstOrDefault(value => value.Name == variable.Name);
            var value = given?.Value ?? variable.Default;
            if (value is null)
            {
                return new PlanComplete { Error = $"Variable \"{variable.Name}\" is required: it has no default in {EchoTemplate.FileName}; give it a value." };
            }

            values[variable.Name] = value;
            if ((variable.Sensitive || given?.Sensitive == true) && value.Length > 0)
            {
                secrets.Add(value);
            }
        }

        string Substitute(string text, bool mask) => Placeholder().Replace(text, match =>
        {
            var (scope, name) = (match.Groups["scope"].Value, match.Groups["name"].Value);
            var value = scope == "var"
                ? values.GetValueOrDefault(name, match.Value)
                : name switch
                {
                    "name" => metadata.WorkspaceName,
                    "owner" => metadata.WorkspaceOwner,
                    "id" => metadata.WorkspaceId,
                    "transition" => transition,
                    "build_number" => metadata.WorkspaceBuildNumber.ToString(CultureInfo.InvariantCulture),
                    _ => match.Value,
                };
            return mask && secrets.Contains(value, StringComparer.Ordinal) ? "(sensitive value)" : value;
        });

        foreach (var line in template.Logs ?? [])
        {
            cancellationToken.ThrowIfCancellationRequested();
            await session.LogAsync(ParseLevel(line.Level), Substitute(line.Output, mask: true), cancellationToken).ConfigureAwait(false);
        }

        // Nothing exists after destroy; otherwise a resource exists in the transitions it lists.
        var planned = transition == "destroy"
            ? []
            : (template.Resources ?? [])
                .Where(resource => resource.Transitions is not { Count: > 0 } listed || listed.Contains(transition, StringComparer.Ordinal))
                .Select(resource =>
                {
                    var items = (resource.Metadata ?? new Dictionary<string, string>()).ToDictionary(item => item.Key, item => Substitute(item.Value, mask: false), StringComparer.Ordinal);
                    var sensitive = items.Where(item => secrets.Any(secret => item.Value.Contains(secret, StringComparison.Ordinal))).Select(item => item.Key).ToList();
                    return new EchoState.Resource(resource.Name, resource.Type, items, sensitive);
                })
                .ToList();

        var state = new EchoState(transition, metadata.WorkspaceBuildNumber, planned);
        session.Items[PlanItem] = state;
        await session.LogAsync(LogLevel.Info, $"Plan: {planned.Count} resource(s) for {transition}.", cancellationToken).ConfigureAwait(false);
        EchoLog.Planned(logger, transition, planned.Count);

        var complete = new PlanComplete { Plan = ByteString.CopyFromUtf8(JsonSerializer.Serialize(state, StateJson)) };
        complete.Resources.AddRange(planned.Select(ToResource));
        return complete;
    }

    public async Task<ApplyComplete> ApplyAsync(ProvisionerSession session, ApplyRequest request, CancellationToken cancellationToken = default)
    {
        // The session host only lets Apply follow a successful Plan, so the plan is there.
        var state = (EchoState)session.Items[PlanItem];
        var previous = EchoState.Read(session.Config.State);
        if (previous is not null)
        {
            await session.LogAsync(LogLevel.Info, $"Previous state: {previous.Resources.Count} resource(s) from build {previous.BuildNumber} ({previous.Transition}).", cancellationToken).ConfigureAwait(false);
        }

        foreach (var resource in state.Resources)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await session.LogAsync(LogLevel.Info, $"{resource.Type}.{resource.Name}: echoed", cancellationToken).ConfigureAwait(false);
        }

        EchoLog.Applied(logger, state.Transition, state.Resources.Count);
        var complete = new ApplyComplete { State = ByteString.CopyFromUtf8(JsonSerializer.Serialize(state, StateJson)) };
        complete.Resources.AddRange(state.Resources.Select(ToResource));
        return complete;
    }

    private static Resource ToResource(EchoState.Resource resource)
    {
        var result = new Resource { Name = resource.Name, Type = resource.Type };
        result.Metadata.AddRange(resource.Metadata.Select(item => new Resource.Types.Metadata
        {
            Key = item.Key,
            Value = item.Value,
            Sensitive = resource.SensitiveKeys.Contains(item.Key, StringComparer.Ordinal),
        }));
        return result;
    }

    private static string TransitionName(WorkspaceTransition transition) => transition switch
    {
        WorkspaceTransition.Start => "start",
        WorkspaceTransition.Stop => "stop",
        WorkspaceTransition.Destroy => "destroy",
        _ => throw new ArgumentOutOfRangeException(nameof(transition), transition, "The daemon sent a transition this provisioner does not know."),
    };

    private static LogLevel ParseLevel(string? level) => level?.ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warn" or "warning" => LogLevel.Warn,
        "error" => LogLevel.Error,
        _ => LogLevel.Info,
    };

    [GeneratedRegex(@"\$\{(?<scope>var|workspace)\.(?<name>[A-Za-z_][A-Za-z0-9_-]*)\}")]
    private static partial Regex Placeholder();
}
