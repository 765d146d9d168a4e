using System.Text.RegularExpressions;

namespace Provisioning.Coordinator.Api;

/// <summary>The name rule of users, templates and workspaces (as in the reference system): lowercase letters and digits, single hyphens between them, at most 32 characters.</summary>
internal static partial class ApiNames
{
    public const string Rule = "use 1 to 32 lowercase letters and digits, with single hyphens between them (^[a-z0-9](-?[a-z0-9])*$)";

    public static bool IsValid(string? name) => name is { Length: > 0 and <= 32 } && Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9](-?[a-z0-9])*$")]
    private static partial Regex Pattern();
}
