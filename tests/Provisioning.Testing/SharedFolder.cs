using Xunit;

namespace Provisioning.Testing;

/// <summary>
/// Locates the project's <c>shared/</c> folder (a sibling of the repository), which holds the
/// conformance fixtures. It is never copied into the repository: a user's clone may not have it, so
/// tests that need it skip with a reason, except under CI=true, where its absence is a failure.
/// </summary>
public static class SharedFolder
{
    /// <summary>The repository root (the folder holding Provisioning.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The shared folder: $PROVISIONING_SHARED_DIR, else ../shared next to the repository.</summary>
    public static string Path { get; } =
        Environment.GetEnvironmentVariable("PROVISIONING_SHARED_DIR") is { Length: > 0 } fromEnvironment
            ? System.IO.Path.GetFullPath(fromEnvironment)
            : System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, "..", "shared"));

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the path of a folder under shared/, skipping (or failing under CI) when it is absent.</summary>
    public static string Require(string relativePath)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        if (Directory.Exists(full) || File.Exists(full))
        {
            return full;
        }

        var reason = $"The shared fixtures are not here ({full}); they live beside the repository in shared/, or set PROVISIONING_SHARED_DIR.";
        if (IsCi)
        {
            Assert.Fail(reason + " Under CI=true they must be present.");
        }

        Assert.Skip(reason);
        return full;
    }

    /// <summary>Whether the folder exists (for building theory data without failing discovery).</summary>
    public static bool Exists(string relativePath) => Directory.Exists(System.IO.Path.Combine(Path, relativePath));

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Provisioning.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Provisioning.sln not found above {AppContext.BaseDirectory}.");
    }
}
