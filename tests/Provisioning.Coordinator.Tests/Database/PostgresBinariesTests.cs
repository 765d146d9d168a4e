using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Tests.Database;

public sealed class PostgresBinariesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pg-binaries-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Find_NothingInstalled_NamesBothWaysOut()
    {
        var exception = Assert.Throws<EmbeddedPostgresException>(() => PostgresBinaries.Find(Path.Combine(_root, "empty"), Path.Combine(_root, "none")));

        Assert.Contains("apt-get install postgresql", exception.Message, StringComparison.Ordinal);
        Assert.Contains("--postgres-url", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_SeveralDebianVersions_PicksTheNewest()
    {
        foreach (var version in new[] { "9.6", "13", "15" })
        {
            FakeServer(Path.Combine(_root, "lib", version, "bin"));
        }

        Directory.CreateDirectory(Path.Combine(_root, "lib", "16", "bin"));

        var found = PostgresBinaries.Find(string.Empty, Path.Combine(_root, "lib"));

        Assert.Equal(Path.Combine(_root, "lib", "15", "bin"), found.Directory);
    }

    [Fact]
    public void Find_ServerOnPath_WinsOverDebianLayout()
    {
        var onPath = Path.Combine(_root, "path-bin");
        FakeServer(onPath);
        FakeServer(Path.Combine(_root, "lib", "17", "bin"));

        var found = PostgresBinaries.Find(string.Join(Path.PathSeparator, Path.Combine(_root, "elsewhere"), onPath), Path.Combine(_root, "lib"));

        Assert.Equal(onPath, found.Directory);
    }

    private static void FakeServer(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var program in new[] { "initdb", "pg_ctl", "postgres" })
        {
            File.WriteAllText(Path.Combine(directory, program), string.Empty);
        }
    }
}
