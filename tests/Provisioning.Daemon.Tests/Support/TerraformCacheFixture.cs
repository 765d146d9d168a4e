namespace Provisioning.Daemon.Tests.Support;

/// <summary>One Terraform cache directory shared by the daemon tests (a collection fixture).</summary>
public sealed class TerraformCacheFixture : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("provisioning-daemon-tf-").FullName;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
