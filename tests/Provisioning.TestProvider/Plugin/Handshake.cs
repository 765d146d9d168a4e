namespace Provisioning.TestProvider.Plugin;

/// <summary>
/// go-plugin's handshake as Terraform launches a provider: Terraform sets the magic cookie and the protocol versions it
/// speaks in the environment and reads one line from the provider's stdout:
/// <c>CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT</c> (go-plugin client.go).
/// </summary>
internal static class Handshake
{
    public const string MagicCookieKey = "TF_PLUGIN_MAGIC_COOKIE";

    /// <summary>Terraform's cookie value (internal/plugin6/serve.go), the same for protocol 5 and 6.</summary>
    public const string MagicCookieValue = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

    /// <summary>go-plugin's core protocol version.</summary>
    public const int CoreProtocolVersion = 1;

    public const int ProtocolVersion = 6;

    /// <summary>Why this process cannot serve Terraform, or null when the environment is Terraform's.</summary>
    public static string? Refusal(Func<string, string?> environment)
    {
        if (environment(MagicCookieKey) != MagicCookieValue)
        {
            // go-plugin's own words for a plugin started by hand.
            return "This binary is a plugin. These are not meant to be executed directly.\n" +
                "Please execute the program that consumes these plugins, which will\n" +
                "load any plugins automatically";
        }

        var offered = (environment("PLUGIN_PROTOCOL_VERSIONS") ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (!offered.Contains(ProtocolVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            return $"This provider speaks plugin protocol {ProtocolVersion} only, and Terraform offered [{string.Join(", ", offered)}]: use Terraform 1.0 or newer.";
        }

        return null;
    }

    /// <summary>The line Terraform reads: the unix socket to dial, gRPC, and (with AutoMTLS) the server's certificate, base64 without padding.</summary>
    public static string Line(string socketPath, byte[]? serverCertificate) =>
        $"{CoreProtocolVersion}|{ProtocolVersion}|unix|{socketPath}|grpc|" +
        (serverCertificate is null ? "" : Convert.ToBase64String(serverCertificate).TrimEnd('='));
}
