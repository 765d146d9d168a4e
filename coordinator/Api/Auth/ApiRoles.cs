namespace Provisioning.Coordinator.Api.Auth;

/// <summary>The roles a user holds, each including the rights of those below it: admin ⊇ template-admin ⊇ member.</summary>
public static class ApiRoles
{
    public const string Admin = "admin";
    public const string TemplateAdmin = "template-admin";
    public const string Member = "member";

    public static bool IsKnown(string role) => role is Admin or TemplateAdmin or Member;

    /// <summary>Whether <paramref name="role"/> has at least the rights of <paramref name="required"/>.</summary>
    public static bool Includes(string role, string required) => Rank(role) >= Rank(required);

    private static int Rank(string role) => role switch
    {
        Admin => 2,
        TemplateAdmin => 1,
        Member => 0,
        _ => -1,
    };
}
