using Npgsql;

namespace Provisioning.Coordinator.Database;

/// <summary>Accepts PostgreSQL URLs (postgres://user:password@host:port/db?sslmode=...) and Npgsql connection strings.</summary>
public static class PostgresConnectionString
{
    public static NpgsqlConnectionStringBuilder Parse(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            && !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(value);
            }
            catch (ArgumentException exception)
            {
                throw new FormatException($"'{Redact(value)}' is neither a postgres:// URL nor an Npgsql connection string ({exception.Message}).", exception);
            }
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException("The PostgreSQL URL is not valid: use postgres://user:password@host:5432/database.");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } database ? database : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var separator = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(separator < 0 ? uri.UserInfo : uri.UserInfo[..separator]);
            if (separator >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(separator + 1)..]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(parts[0]);
            var parameter = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : string.Empty;
            switch (key.ToLowerInvariant())
            {
                case "sslmode":
                    builder.SslMode = parameter.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"sslmode '{parameter}' is unknown: use disable, allow, prefer, require, verify-ca or verify-full."),
                    };
                    break;
                default:
                    try
                    {
                        builder[key] = parameter;
                    }
                    catch (ArgumentException exception)
                    {
                        throw new FormatException($"URL parameter '{key}' is not a connection setting ({exception.Message}).", exception);
                    }

                    break;
            }
        }

        return builder;
    }

    private static string Redact(string value) =>
        value.Contains("password", StringComparison.OrdinalIgnoreCase) ? "(connection string with a password)" : value;
}
