using System.Globalization;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.State;

internal sealed partial class StateConversion
{
    // The provider's form_type values.
    private static readonly Dictionary<string, ParameterFormType> FormTypes = new(StringComparer.Ordinal)
    {
        [""] = ParameterFormType.Default,
        ["error"] = ParameterFormType.FormError,
        ["radio"] = ParameterFormType.Radio,
        ["dropdown"] = ParameterFormType.Dropdown,
        ["input"] = ParameterFormType.Input,
        ["textarea"] = ParameterFormType.Textarea,
        ["slider"] = ParameterFormType.Slider,
        ["checkbox"] = ParameterFormType.Checkbox,
        ["switch"] = ParameterFormType.Switch,
        ["tag-select"] = ParameterFormType.Tagselect,
        ["multi-select"] = ParameterFormType.Multiselect,
    };

    /// <summary>
    /// <c>coder_parameter</c> data sources in module-traversal order (child modules before their parent,
    /// each module in the order Terraform lists it). Names must be unique.
    /// </summary>
    private List<RichParameter> ConvertParameters()
    {
        var parameters = new List<RichParameter>();
        var duplicated = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in _parameterResources)
        {
            var parameter = ConvertParameter(resource);
            var quoted = GoText.Quote(parameter.Name);
            if (!seen.Add(parameter.Name) && !duplicated.Contains(quoted))
            {
                duplicated.Add(quoted);
            }

            parameters.Add(parameter);
        }

        if (duplicated.Count > 0)
        {
            throw new StateConversionException(
                $"coder_parameter names must be unique but {GoText.JoinWithConjunction(duplicated)} {(duplicated.Count == 1 ? "appears" : "appear")} multiple times");
        }

        return parameters;
    }

    private static RichParameter ConvertParameter(TerraformResource resource)
    {
        var what = $"map values for coder_parameter.{resource.Name}";
        var attributes = resource.Attributes;
        var formTypeText = attributes.String("form_type", what);
        if (!FormTypes.TryGetValue(formTypeText, out var formType))
        {
            throw new StateConversionException(
                $"decode form_type for coder_parameter.{resource.Name}: unsupported form type {GoText.Quote(formTypeText)}, expected one of {string.Join(", ", FormTypes.Keys.Where(key => key.Length > 0))}");
        }

        var parameter = new RichParameter
        {
            Name = attributes.String("name", what),
            DisplayName = attributes.String("display_name", what),
            Description = attributes.String("description", what),
            FormType = formType,
            Type = attributes.String("type", what),
            Mutable = attributes.Bool("mutable", what),
            DefaultValue = attributes.String("default", what),
            Icon = attributes.String("icon", what),
            Required = !attributes.Bool("optional", what),
            Order = attributes.Int32("order", what),
            Ephemeral = attributes.Bool("ephemeral", what),
        };

        var validations = attributes.Blocks("validation", what);
        if (validations.Count == 1)
        {
            var validation = validations[0];
            parameter.ValidationRegex = validation.String("regex", what);
            parameter.ValidationError = validation.String("error", what);
            var min = validation.Int32("min", what);
            var max = validation.Int32("max", what);
            var minDisabled = validation.Bool("min_disabled", what);
            var maxDisabled = validation.Bool("max_disabled", what);
            if (!validation.Has("min_disabled"))
            {
                // Providers before v0.8.2 had no min_disabled/max_disabled and required min and max together:
                // both zero meant "no bounds".
                minDisabled = maxDisabled = min == 0 && max == 0;
            }

            if (!maxDisabled)
            {
                parameter.ValidationMax = max;
            }

            if (!minDisabled)
            {
                parameter.ValidationMin = min;
            }

            parameter.ValidationMonotonic = validation.String("monotonic", what);
        }

        foreach (var option in attributes.Blocks("option", what))
        {
            parameter.Options.Add(new RichParameterOption
            {
                Name = option.String("name", what),
                Description = option.String("description", what),
                Value = option.String("value", what),
                Icon = option.String("icon", what),
            });
        }

        return parameter;
    }

    private static int Clamp(long value) => (int)Math.Clamp(value, int.MinValue, int.MaxValue);

    /// <summary><c>coder_workspace_preset</c> data sources: named sets of parameter values, at most one default.</summary>
    private List<Preset> ConvertPresets()
    {
        const string what = "preset attributes";
        var presets = new List<Preset>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var duplicatedNames = new List<string>();
        foreach (var resource in _presetResources)
        {
            var attributes = resource.Attributes;
            var preset = new Preset
            {
                Name = attributes.String("name", what),
                Default = attributes.Bool("default", what),
                Description = attributes.String("description", what),
                Icon = attributes.String("icon", what),
                Prebuild = new Prebuild(),
            };

            var values = attributes.StringMap("parameters", what) ?? [];
            var duplicatedParameters = values
                .GroupBy(pair => pair.Key, StringComparer.Ordinal)
                .Where(group => group.Count() > 1)
                .Select(group => GoText.Quote(group.Key))
                .ToList();
            if (duplicatedParameters.Count > 0)
            {
                throw new StateConversionException(
                    $"coder_workspace_preset parameters must be unique but {GoText.JoinWithConjunction(duplicatedParameters)} {(duplicatedParameters.Count == 1 ? "appears" : "appear")} multiple times");
            }

            // The provider hands the values over as a map; sorting keeps the output independent of its order.
            foreach (var (name, value) in values.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                preset.Parameters.Add(new PresetParameter { Name = name, Value = value });
            }

            var prebuilds = attributes.Blocks("prebuilds", what);
            if (prebuilds.Count > 0)
            {
                var instances = prebuilds[0].Int64("instances", what);
                preset.Prebuild.Instances = Clamp(instances);
                if (prebuilds[0].Blocks("expiration_policy", what) is [var expiration, ..])
                {
                    preset.Prebuild.ExpirationPolicy = new ExpirationPolicy { Ttl = Clamp(expiration.Int64("ttl", what)) };
                }

                if (prebuilds[0].Blocks("scheduling", what) is [var scheduling, ..])
                {
                    preset.Prebuild.Scheduling = new Scheduling { Timezone = scheduling.String("timezone", what) };
                    preset.Prebuild.Scheduling.Schedule.AddRange(scheduling.Blocks("schedule", what)
                        .Select(schedule => new Schedule { Cron = schedule.String("cron", what), Instances = Clamp(schedule.Int64("instances", what)) }));
                }
            }

            if (!names.Add(preset.Name) && !duplicatedNames.Contains(preset.Name))
            {
                duplicatedNames.Add(preset.Name);
            }

            presets.Add(preset);
        }

        if (duplicatedNames.Count > 0)
        {
            throw new StateConversionException(
                $"coder_workspace_preset names must be unique but {GoText.JoinWithConjunction(duplicatedNames)} {(duplicatedNames.Count == 1 ? "appears" : "appear")} multiple times");
        }

        var defaults = presets.Count(preset => preset.Default);
        if (defaults > 1)
        {
            throw new StateConversionException(string.Create(
                CultureInfo.InvariantCulture,
                $"a maximum of 1 coder_workspace_preset can be marked as default, but {defaults} are set"));
        }

        return presets;
    }
}
