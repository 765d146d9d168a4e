using System.Formats.Tar;
using System.Text;
using Google.Protobuf;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Tests.Provisioners;

/// <summary>Requests and archives the session tests send.</summary>
internal static class SessionRequests
{
    public static Request Config(byte[]? archive = null) => new()
    {
        Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive ?? TemplateArchive()), ProvisionerLogLevel = "debug" },
    };

    public static Request Parse() => new() { Parse = new ParseRequest() };

    public static Request Plan() => new() { Plan = new PlanRequest { Metadata = new Metadata { WorkspaceName = "dev" } } };

    public static Request Apply() => new() { Apply = new ApplyRequest { Metadata = new Metadata { WorkspaceName = "dev" } } };

    public static Request Cancel() => new() { Cancel = new CancelRequest() };

    public static byte[] TemplateArchive(string readme = "# Dev template\n") => Tar(("main.tf", "resource \"terraform_data\" \"dev\" {}\n"), ("README.md", readme));

    public static byte[] UnsafeArchive() => Tar(("main.tf", "ok"), ("../escaped.tf", "pwned"));

    private static byte[] Tar(params (string Name, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
            }
        }

        return buffer.ToArray();
    }
}
