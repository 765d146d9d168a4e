namespace Provisioning.Cli.Config;

/// <summary>
/// Where the CLI keeps its login: <c>$PROVISIONING_HOME/url</c> and <c>$PROVISIONING_HOME/session</c> (mode 0600),
/// the same session file <c>provisioning server</c> writes for its admin on the first start, so a CLI on the
/// server's machine is logged in once it knows the URL. <c>PROVISIONING_URL</c> and
/// <c>PROVISIONING_SESSION_TOKEN</c> override the files.
/// </summary>
internal static class CliConfig
{
    public const string UrlVariable = "PROVISIONING_URL";
    public const string TokenVariable = "PROVISIONING_SESSION_TOKEN";

    public static string HomeDirectory =>
        Environment.GetEnvironmentVariable("PROVISIONING_HOME") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "provisioning");

    public static string UrlFile => Path.Combine(HomeDirectory, "url");

    public static string SessionFile => Path.Combine(HomeDirectory, "session");

    /// <summary>The path of the PEM authorities <c>login --tls-ca-file</c> was given (the path, not a copy: renewing the file in place works).</summary>
    public static string TlsCaFile => Path.Combine(HomeDirectory, "tls-ca-file");

    /// <summary>The path of the client certificate <c>login --tls-client-cert-file</c> was given.</summary>
    public static string TlsClientCertificateFile => Path.Combine(HomeDirectory, "tls-client-cert-file");

    /// <summary>The path of the client key <c>login --tls-client-key-file</c> was given.</summary>
    public static string TlsClientKeyFile => Path.Combine(HomeDirectory, "tls-client-key-file");

    /// <summary>Stores the TLS file paths login was given, and forgets those it was not (a login to another coordinator starts afresh).</summary>
    public static void SaveTls(string? caFile, string? clientCertificateFile, string? clientKeyFile)
    {
        Directory.CreateDirectory(HomeDirectory);
        foreach (var (file, value) in new[] { (TlsCaFile, caFile), (TlsClientCertificateFile, clientCertificateFile), (TlsClientKeyFile, clientKeyFile) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                File.Delete(file);
            }
            else
            {
                WritePrivate(file, value);
            }
        }
    }

    /// <summary>The coordinator to call and the token to call it with; fails with what to run when either is missing.</summary>
    public static (Uri Url, string Token) Resolve()
    {
        var url = Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : ReadOrNull(UrlFile);
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new CliException($"Not logged in: run `provisioning login URL` (e.g. http://127.0.0.1:3000) or set {UrlVariable}.");
        }

        var token = Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } tokenFromEnvironment ? tokenFromEnvironment : ReadOrNull(SessionFile);
        if (string.IsNullOrWhiteSpace(token))
        {
            throw new CliException($"No session token: run `provisioning login {url} --token <token>` or set {TokenVariable}.");
        }

        return (ParseUrl(url), token);
    }

    public static Uri ParseUrl(string url)
    {
        var text = url.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{url}' is not a coordinator URL: use e.g. http://127.0.0.1:3000.");
        }

        return uri;
    }

    public static void Save(Uri url, string token)
    {
        Directory.CreateDirectory(HomeDirectory);
        WritePrivate(UrlFile, url.ToString().TrimEnd('/'));
        WritePrivate(SessionFile, token);
    }

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Write('\n');
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to a new file; an existing one is tightened too.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static string? ReadOrNull(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
