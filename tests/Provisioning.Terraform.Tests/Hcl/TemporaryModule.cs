namespace Provisioning.Terraform.Tests.Hcl;

/// <summary>A root module written to a fresh temporary directory, deleted on dispose.</summary>
internal sealed class TemporaryModule : IDisposable
{
    private TemporaryModule(string directory) => Directory = directory;

    public string Directory { get; }

    public static TemporaryModule With(params (string Name, string Content)[] files)
    {
        var directory = Path.Combine(Path.GetTempPath(), "hcl-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        foreach (var (name, content) in files)
        {
            var path = Path.Combine(directory, name);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }

        return new TemporaryModule(directory);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
