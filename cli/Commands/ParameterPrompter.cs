using System.Text.Json;

using Provisioning.Coordinator.Workspaces;

using Spectre.Console;

namespace Provisioning.Cli.Commands;

/// <summary>
/// Asks for parameter values on a terminal, as Coder's CLI does: a choice for options and booleans, a multi-choice for
/// multi-select lists, free text otherwise (its default pre-filled), each answer checked with the coordinator's own
/// rules (<see cref="WorkspaceParameters.Validate"/>) so a bad value is asked again instead of refused later.
/// </summary>
internal sealed class ParameterPrompter(IAnsiConsole console)
{
    public string Ask(TemplateParameter parameter, string? previous = null)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        var title = Markup.Escape(parameter.DisplayName.Length > 0 ? parameter.DisplayName : parameter.Name);
        if (parameter.Description.Length > 0)
        {
            console.MarkupLine($"[grey]{Markup.Escape(TerminalText.Clean(parameter.Description))}[/]");
        }

        var options = parameter.Options ?? [];
        if (parameter.Type == "list(string)" && parameter.FormType == "multiselect" && options.Count > 0)
        {
            var chosen = console.Prompt(new MultiSelectionPrompt<ParameterOption>()
                .Title(title)
                .NotRequired()
                .UseConverter(option => Markup.Escape(option.Name.Length > 0 ? option.Name : option.Value))
                .AddChoices(options.Select(option => new ParameterOption(option.Name, option.Value))));
            return JsonSerializer.Serialize(chosen.Select(option => option.Value).ToArray());
        }

        if (options.Count > 0)
        {
            // Spectre's selection has no default: the default option is listed first, so Enter takes it.
            var ordered = options.OrderBy(option => option.Value == parameter.DefaultValue ? 0 : 1).Select(option => new ParameterOption(option.Name, option.Value));
            return console.Prompt(new SelectionPrompt<ParameterOption>()
                .Title(title)
                .UseConverter(option => Markup.Escape(option.Name.Length > 0 && option.Name != option.Value ? $"{option.Name} ({option.Value})" : option.Value))
                .AddChoices(ordered)).Value;
        }

        if (parameter.Type == "bool")
        {
            var first = parameter.DefaultValue == "true" ? "true" : "false";
            return console.Prompt(new SelectionPrompt<string>().Title(title).AddChoices(first, first == "true" ? "false" : "true"));
        }

        var definition = ToDefinition(parameter);
        var prompt = new TextPrompt<string>(title + ":").Validate(value =>
            WorkspaceParameters.Validate(definition, value, previous) is { } error ? ValidationResult.Error(Markup.Escape(error)) : ValidationResult.Success());
        if (parameter.DefaultValue.Length > 0)
        {
            prompt.DefaultValue(parameter.DefaultValue);
        }
        else if (!parameter.Required)
        {
            prompt.AllowEmpty();
        }

        return console.Prompt(prompt);
    }

    /// <summary>The API's view of a parameter as the coordinator's validator takes it.</summary>
    public static WorkspaceParameter ToDefinition(TemplateParameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return new WorkspaceParameter(
            parameter.Name, parameter.DisplayName, parameter.Type, parameter.FormType, parameter.Mutable, parameter.DefaultValue, parameter.Required, parameter.Ephemeral,
            [.. (parameter.Options ?? []).Select(option => option.Value)], parameter.ValidationRegex, parameter.ValidationError, parameter.ValidationMin, parameter.ValidationMax,
            parameter.ValidationMonotonic);
    }

    /// <summary>A choice in a selection prompt.</summary>
    private sealed record ParameterOption(string Name, string Value);
}
