using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Provisioning.TestProvider.Coder;

/// <summary>
/// coder_parameter's checks of its value, ported from the real provider (provider/parameter.go, formtype.go at v2.17.0)
/// with the same order and the same messages: the value comes from CODER_PARAMETER_&lt;sha256 of the name&gt; or the
/// default; CODER_PARAMETER_PREVIOUS_&lt;hash&gt; is the previous build's value, for monotonic numbers.
/// </summary>
internal static class ParameterValidation
{
    public static readonly string[] OptionTypes = ["string", "number", "bool", "list(string)"];

    public static readonly string[] FormTypes = ["radio", "slider", "input", "dropdown", "checkbox", "switch", "multi-select", "tag-select", "textarea", "error"];

    private static readonly Dictionary<(string Type, bool OptionsExist), string[]> FormTypeTruthTable = new()
    {
        [("string", true)] = ["radio", "dropdown"],
        [("string", false)] = ["input", "textarea"],
        [("number", true)] = ["radio", "dropdown"],
        [("number", false)] = ["input", "slider"],
        [("bool", true)] = ["radio", "dropdown"],
        [("bool", false)] = ["checkbox", "switch"],
        [("list(string)", true)] = ["radio", "multi-select"],
        [("list(string)", false)] = ["tag-select"],
    };

    /// <summary>The value the parameter takes, or the diagnostics that make the read fail; also the form type it resolved.</summary>
    public static (string Value, string FormType, IReadOnlyList<ProviderDiagnostic> Errors) ValidateInput(ParameterDefinition parameter, string? input, string? previous)
    {
        var value = input;
        var usesDefault = false;
        if (input is null)
        {
            value = parameter.Default;
            usesDefault = parameter.Default is not null;
        }

        var (optionType, formType, formError) = ValidateFormType(parameter.Type, parameter.Options.Count, parameter.FormType);
        if (formError is not null)
        {
            return ("", formType, [new ProviderDiagnostic("Invalid form_type for parameter", formError, ["form_type"])]);
        }

        var (optionValues, optionErrors) = ValidOptions(parameter, optionType);
        if (optionErrors.Count > 0)
        {
            return ("", formType, optionErrors);
        }

        if (parameter.Validation is null && value is null)
        {
            return ("", formType, []);
        }

        var forced = value ?? "";
        var invalid = ValidValue(parameter, forced, previous, optionType, optionValues, usesDefault);
        if (invalid is not null)
        {
            return ("", formType, [invalid]);
        }

        if (ValueIsType(parameter.Type, forced) is { } typeError)
        {
            return ("", formType, [new ProviderDiagnostic($"Parameter value is not of type {GoFormat.Quote(parameter.Type)}", typeError)]);
        }

        return (forced, formType, []);
    }

    private static (string OptionType, string FormType, string? Error) ValidateFormType(string type, int optionCount, string formType)
    {
        var optionsExist = optionCount > 0;
        if (!FormTypeTruthTable.TryGetValue((type, optionsExist), out var allowed))
        {
            return (type, formType, $"\"type\" attribute={GoFormat.Quote(type)} is not supported, choose one of {GoFormat.List(OptionTypes)}");
        }

        if (formType.Length == 0)
        {
            formType = allowed[0];
        }

        if (!allowed.Contains(formType))
        {
            var optionMessage = "";
            if (FormTypeTruthTable[(type, !optionsExist)].Contains(formType))
            {
                optionMessage = optionsExist ? " when options exist" : " when options do not exist";
            }

            return (type, formType,
                $"\"form_type\" attribute={GoFormat.Quote(formType)} is not supported for \"type\"={GoFormat.Quote(type)}{optionMessage}, choose one of {GoFormat.List(allowed)}");
        }

        return type == "list(string)" && formType == "multi-select" ? ("string", formType, null) : (type, formType, null);
    }

    private static (HashSet<string> Values, List<ProviderDiagnostic> Errors) ValidOptions(ParameterDefinition parameter, string optionType)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var values = new HashSet<string>(StringComparer.Ordinal);
        var errors = new List<ProviderDiagnostic>();
        foreach (var option in parameter.Options)
        {
            if (names.Contains(option.Name))
            {
                return ([], [new ProviderDiagnostic("Option names must be unique.", $"multiple options found with the same name {GoFormat.Quote(option.Name)}")]);
            }

            if (values.Contains(option.Value))
            {
                return ([], [new ProviderDiagnostic("Option values must be unique.", $"multiple options found with the same value {GoFormat.Quote(option.Value)}")]);
            }

            if (ValueIsType(optionType, option.Value) is { } typeError)
            {
                errors.Add(new ProviderDiagnostic(
                    $"Option {GoFormat.Quote(option.Name)} with value={GoFormat.Quote(option.Value)} is not of type {GoFormat.Quote(optionType)}", typeError));
                continue;
            }

            values.Add(option.Value);
            names.Add(option.Name);
        }

        return (values, errors);
    }

    private static ProviderDiagnostic? ValidValue(ParameterDefinition parameter, string value, string? previous, string optionType, HashSet<string> optionValues, bool usesDefault)
    {
        var name = usesDefault ? "Default value" : "Value";
        IReadOnlyList<object> path = usesDefault ? ["default"] : [];
        if (optionValues.Count > 0)
        {
            if (parameter.Type == "list(string)" && optionType == "string")
            {
                var (list, listError) = ValueIsListString(value);
                if (listError is not null)
                {
                    return new ProviderDiagnostic("When using list(string) type, value must be a json encoded list of strings", listError, path);
                }

                var missing = list!.Where(item => !optionValues.Contains(item)).ToList();
                if (missing.Count > 0)
                {
                    return new ProviderDiagnostic($"{name}s must be a valid option",
                        $"{name} {GoFormat.Quote(value)} is not a valid option, values {GoFormat.Quote(string.Join(", ", missing))} are missing from the options", path);
                }
            }
            else if (!optionValues.Contains(value))
            {
                var extra = value.Length == 0 ? ". The value is empty, did you forget to set it with a default or from user input?" : "";
                return new ProviderDiagnostic($"{name} must be a valid option{extra}", $"the value {GoFormat.Quote(value)} must be defined as one of options", path);
            }
        }

        if (parameter.Validation is { } validation && Valid(validation, parameter.Type, value, previous) is { } error)
        {
            return new ProviderDiagnostic($"Invalid parameter {name.ToLowerInvariant()} according to 'validation' block", error, path);
        }

        return null;
    }

    private static string? Valid(ParameterValidationRule rule, string type, string value, string? previous)
    {
        if (type != "number")
        {
            if (!rule.MinDisabled)
            {
                return $"a min cannot be specified for a {type} type";
            }

            if (!rule.MaxDisabled)
            {
                return $"a max cannot be specified for a {type} type";
            }

            if (rule.Monotonic.Length > 0)
            {
                return $"monotonic validation can only be specified for number types, not {type} types";
            }
        }

        if (type != "string" && rule.Regex.Length > 0)
        {
            return $"a regex cannot be specified for a {type} type";
        }

        switch (type)
        {
            case "bool":
                return value is "true" or "false" ? null : "boolean value can be either \"true\" or \"false\"";
            case "string":
                if (rule.Regex.Length == 0)
                {
                    return null;
                }

                Regex regex;
                try
                {
                    regex = new Regex(rule.Regex, RegexOptions.None, TimeSpan.FromSeconds(5));
                }
                catch (ArgumentException exception)
                {
                    return $"compile regex {GoFormat.Quote(rule.Regex)}: {exception.Message}";
                }

                if (rule.Error.Length == 0)
                {
                    return "an error must be specified with a regex validation";
                }

                return regex.IsMatch(value) ? null : $"{rule.Error} (value {GoFormat.Quote(value)} does not match {GoFormat.Quote(rule.Regex)})";
            case "number":
                if (!TryAtoi(value, out var number))
                {
                    return Rendered(rule, value) ?? $"value {GoFormat.Quote(value)} is not a number";
                }

                if (!rule.MinDisabled && number < rule.Min)
                {
                    return Rendered(rule, value) ?? $"value {number} is less than the minimum {rule.Min}";
                }

                if (!rule.MaxDisabled && number > rule.Max)
                {
                    return Rendered(rule, value) ?? $"value {number} is more than the maximum {rule.Max}";
                }

                if (rule.Monotonic.Length > 0 && rule.Monotonic is not ("increasing" or "decreasing"))
                {
                    return "number monotonicity can be either \"increasing\" or \"decreasing\"";
                }

                if (rule.Monotonic.Length > 0 && previous is not null && TryAtoi(previous, out var previousNumber))
                {
                    if (rule.Monotonic == "increasing" && number < previousNumber)
                    {
                        return $"parameter value '{number}' must be equal or greater than previous value: {previousNumber}";
                    }

                    if (rule.Monotonic == "decreasing" && number > previousNumber)
                    {
                        return $"parameter value '{number}' must be equal or lower than previous value: {previousNumber}";
                    }
                }

                return null;
            case "list(string)":
                return ValueIsListString(value).Error is null ? null : $"value {GoFormat.Quote(value)} is not valid list of strings";
            default:
                return null;
        }
    }

    private static string? ValueIsType(string type, string value)
    {
        switch (type)
        {
            case "number":
                return IsGoFloat(value) ? null : $"{GoFormat.Quote(value)} is not a number";
            case "bool":
                return value is "1" or "t" or "T" or "TRUE" or "true" or "True" or "0" or "f" or "F" or "FALSE" or "false" or "False"
                    ? null : $"{GoFormat.Quote(value)} is not a bool";
            case "list(string)":
                return ValueIsListString(value).Error;
            case "string":
                return null;
            default:
                return $"invalid type {GoFormat.Quote(type)}";
        }
    }

    private static (List<string>? Items, string? Error) ValueIsListString(string value)
    {
        try
        {
            var items = JsonSerializer.Deserialize<List<string>>(value);
            return (items ?? [], null);
        }
        catch (JsonException)
        {
            return (null, $"value {GoFormat.Quote(value)} is not a valid list of strings");
        }
    }

    /// <summary>The rule's error with {min}, {max} and {value} filled in, or null when the rule has none.</summary>
    private static string? Rendered(ParameterValidationRule rule, string value) =>
        rule.Error.Length == 0 ? null
            : rule.Error.Replace("{min}", rule.Min.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{max}", rule.Max.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{value}", value, StringComparison.Ordinal);

    /// <summary>Go's strconv.Atoi: an optional sign and decimal digits, within 64 bits.</summary>
    private static bool TryAtoi(string value, out long number) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);

    /// <summary>Go's strconv.ParseFloat(value, 64), for the forms templates use (decimal, exponent, inf, nan).</summary>
    private static bool IsGoFloat(string value) =>
        value.Trim() == value && value.Length > 0
        && (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            || value.TrimStart('+', '-').ToLowerInvariant() is "inf" or "infinity" or "nan");
}
