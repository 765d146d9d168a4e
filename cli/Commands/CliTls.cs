using System.CommandLine;

using Provisioning.Cli.Config;
using Provisioning.Daemon.Coordinator;

namespace Provisioning.Cli.Commands;

/// <summary>
/// The client-side TLS flags every command takes (the CLI's own calls and <c>provisioner start</c>): the authorities to trust and a
/// client certificate. Each falls back to its environment variable, then to what <c>provisioning login</c> stored under
/// $PROVISIONING_HOME, so a CLI logged in to an https coordinator with a private authority needs the flag once.
/// </summary>
internal static class CliTls
{
    public static readonly Option<string?> CaFile = new("--tls-ca-file")
    {
        Description = $"PEM authorities to trust for an https coordinator, instead of the system's (default: what login stored). [env: {CoordinatorClientTls.CaFileVariable}]",
        Recursive = true,
    };

    public static readonly Option<string?> ClientCertificateFile = new("--tls-client-cert-file")
    {
        Description = $"PEM client certificate (and key, unless --tls-client-key-file) for a coordinator that requires one. [env: {CoordinatorClientTls.ClientCertificateVariable}]",
        Recursive = true,
    };

    public static readonly Option<string?> ClientKeyFile = new("--tls-client-key-file")
    {
        Description = $"PEM private key of --tls-client-cert-file. [env: {CoordinatorClientTls.ClientKeyVariable}]",
        Recursive = true,
    };

    public static IEnumerable<Option> All => [CaFile, ClientCertificateFile, ClientKeyFile];

    /// <summary>The flags, else the environment, else the files login stored; paths made absolute so they survive a change of directory.</summary>
    public static CoordinatorClientTls Resolve(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return new CoordinatorClientTls(
            Pick(parse, CaFile, CoordinatorClientTls.CaFileVariable, CliConfig.TlsCaFile),
            Pick(parse, ClientCertificateFile, CoordinatorClientTls.ClientCertificateVariable, CliConfig.TlsClientCertificateFile),
            Pick(parse, ClientKeyFile, CoordinatorClientTls.ClientKeyVariable, CliConfig.TlsClientKeyFile));
    }

    /// <summary>Only what was given on the command line or in the environment (what login stores), not what is stored already.</summary>
    public static CoordinatorClientTls Given(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return new CoordinatorClientTls(
            Pick(parse, CaFile, CoordinatorClientTls.CaFileVariable, null),
            Pick(parse, ClientCertificateFile, CoordinatorClientTls.ClientCertificateVariable, null),
            Pick(parse, ClientKeyFile, CoordinatorClientTls.ClientKeyVariable, null));
    }

    private static string? Pick(ParseResult parse, Option<string?> option, string variable, string? storedFile)
    {
        var value = parse.GetValue(option) is { Length: > 0 } flag ? flag
            : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : storedFile is not null && File.Exists(storedFile) ? File.ReadAllText(storedFile).Trim()
            : null;
        return string.IsNullOrWhiteSpace(value) ? null : Path.GetFullPath(value);
    }
}
