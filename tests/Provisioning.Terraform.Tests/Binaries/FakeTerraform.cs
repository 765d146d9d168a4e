using System.IO.Compression;
using System.Text;

namespace Provisioning.Terraform.Tests.Binaries;

/// <summary>A small shell script that answers <c>version</c> and <c>version -json</c> like terraform or tofu does.</summary>
internal static class FakeTerraform
{
    public static string Script(string version, string plainBanner = "Terraform") =>
        "#!/bin/sh\n" +
        "if [ \"$1\" = version ] && [ \"$2\" = -json ]; then\n" +
        $"  echo '{{\"terraform_version\":\"{version}\",\"platform\":\"linux_amd64\",\"provider_selections\":{{}},\"terraform_outdated\":false}}'\n" +
        "elif [ \"$1\" = version ]; then\n" +
        $"  echo '{plainBanner} v{version}'\n" +
        "else\n" +
        "  echo \"unexpected arguments: $*\" >&2; exit 1\n" +
        "fi\n";

    /// <summary>Writes the script as an executable file named <paramref name="name"/> in <paramref name="directory"/>.</summary>
    public static string Write(string directory, string name, string script)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, script);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }

        return path;
    }

    /// <summary>A release zip holding the script as <c>terraform</c>.</summary>
    public static byte[] ReleaseZip(string script)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("terraform");
            // Unix permissions live in the high 16 bits of the external attributes, as in HashiCorp's zips.
            entry.ExternalAttributes = 0b111_101_101 << 16;
            using var stream = entry.Open();
            stream.Write(Encoding.UTF8.GetBytes(script));
        }

        return buffer.ToArray();
    }
}
