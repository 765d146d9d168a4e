namespace Provisioning.Coordinator.Database;

/// <summary>Where the machine's PostgreSQL server programs (initdb, pg_ctl, postgres) are.</summary>
internal sealed record PostgresBinaries(string Directory)
{
    public const string MissingMessage =
        "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found on PATH or in /usr/lib/postgresql/*/bin. "
        + "Either install the PostgreSQL server (e.g. `apt-get install postgresql`) for the built-in database, "
        + "or pass --postgres-url (Coordinator:PostgresUrl) to use an existing PostgreSQL.";

    public string InitDb => Path.Combine(Directory, "initdb");

    public string PgCtl => Path.Combine(Directory, "pg_ctl");

    /// <summary>PATH first (the directory holding initdb, which must also hold pg_ctl and postgres), else the newest Debian layout.</summary>
    public static PostgresBinaries Find() => Find(Environment.GetEnvironmentVariable("PATH"), "/usr/lib/postgresql");

    internal static PostgresBinaries Find(string? pathVariable, string debianRoot)
    {
        var pathDirectories = (pathVariable ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var directory in pathDirectories)
        {
            if (HasServerPrograms(directory))
            {
                return new PostgresBinaries(directory);
            }
        }

        if (System.IO.Directory.Exists(debianRoot))
        {
            var newest = System.IO.Directory.EnumerateDirectories(debianRoot)
                .Select(versionDirectory => (Version: ParseVersion(Path.GetFileName(versionDirectory)), Bin: Path.Combine(versionDirectory, "bin")))
                .Where(candidate => candidate.Version is not null && HasServerPrograms(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault();
            if (newest is not null)
            {
                return new PostgresBinaries(newest);
            }
        }

        throw new EmbeddedPostgresException(MissingMessage);
    }

    private static bool HasServerPrograms(string directory) =>
        File.Exists(Path.Combine(directory, "initdb"))
        && File.Exists(Path.Combine(directory, "pg_ctl"))
        && File.Exists(Path.Combine(directory, "postgres"));

    private static Version? ParseVersion(string name) =>
        Version.TryParse(name.Contains('.', StringComparison.Ordinal) ? name : name + ".0", out var version) ? version : null;
}
