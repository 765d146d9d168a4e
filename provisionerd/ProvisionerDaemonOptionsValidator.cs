using System.Net;

using Microsoft.Extensions.Options;

namespace Provisioning.Daemon;

/// <summary>Checks <see cref="ProvisionerDaemonOptions"/> at start, with messages that say how to fix each problem.</summary>
public sealed partial class ProvisionerDaemonOptionsValidator : IValidateOptions<ProvisionerDaemonOptions>
{
    public ValidateOptionsResult Validate(string? name, ProvisionerDaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public static void ThrowIfInvalid(ProvisionerDaemonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(ProvisionerDaemonOptions.SectionName, typeof(ProvisionerDaemonOptions), failures);
        }
    }

    /// <summary>Parses <c>host:port</c> (host an IP address, <c>localhost</c> or <c>*</c>); null when malformed.</summary>
    internal static (string Host, int Port)? ParseListenAddress(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), out var port) || port is < 0 or > 65535)
        {
            return null;
        }

        var host = address[..colon].Trim('[', ']');
        if (host is "*" or "localhost" || IPAddress.TryParse(host, out _))
        {
            return (host, port);
        }

        return null;
    }

    private static List<string> Check(ProvisionerDaemonOptions options)
    {
        var failures = new List<string>();
        var section = ProvisionerDaemonOptions.SectionName;

        if (options.CoordinatorUrl is not { } url)
        {
            failures.Add($"{section}:CoordinatorUrl is missing: pass the coordinator's gRPC address with --url, e.g. http://coordinator:8081.");
        }
        else if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"{section}:CoordinatorUrl '{url}' is not an http:// or https:// address: give the coordinator's gRPC address, e.g. http://coordinator:8081.");
        }

        if (options.Tls.IsConfigured && options.CoordinatorUrl is { IsAbsoluteUri: true } tlsUrl && tlsUrl.Scheme == Uri.UriSchemeHttp)
        {
            failures.Add($"TLS settings (--tls-ca-file, --tls-client-cert-file) are given but the coordinator's address {tlsUrl} is cleartext: use its https:// address.");
        }
        else if (options.Tls.Problem() is { } tlsProblem)
        {
            failures.Add(tlsProblem);
        }

        var hasKey = !string.IsNullOrWhiteSpace(options.ProvisionerKey);
        var hasPsk = !string.IsNullOrWhiteSpace(options.PreSharedKey);
        if (hasKey && hasPsk)
        {
            failures.Add("Both a provisioner key (--key) and a pre-shared key (--psk) are set: use one of them.");
        }
        else if (!hasKey && !hasPsk)
        {
            failures.Add("No credentials: pass a provisioner key with --key (create one with 'provisioning provisioner keys create') or the coordinator's pre-shared key with --psk.");
        }

        if (hasKey && options.Tags.Count > 0)
        {
            failures.Add("--tag cannot be used with a provisioner key: the daemon gets the key's tags. Drop --tag, or create a key with those tags.");
        }

        foreach (var (key, value) in options.Tags)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Any(char.IsWhiteSpace) || key.Contains('='))
            {
                failures.Add($"Tag key '{key}' is invalid: use a non-empty key without spaces or '=', as in --tag region=eu.");
            }
            else if (value is null || value.Any(char.IsControl))
            {
                failures.Add($"Tag '{key}' has an invalid value: give a value without control characters, as in --tag {key}=value.");
            }
        }

        foreach (var (type, path) in options.ProvisionerBinaries)
        {
            if (!ProvisionerTypeName().IsMatch(type ?? ""))
            {
                failures.Add($"Provisioner name '{type}' is invalid: use lower-case letters, digits, '-' and '_' (at most 64), as in --provisioner echo=/usr/local/bin/echo-provisioner.");
            }
            else if (string.IsNullOrWhiteSpace(path) || !Path.IsPathFullyQualified(path))
            {
                failures.Add($"--provisioner {type}: the binary's path '{path}' is not absolute: give the executable's full path.");
            }
            else if (!File.Exists(path))
            {
                failures.Add($"--provisioner {type}: no file at {path}: give the path of the provisioner's executable.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add($"{section}:Name is empty: pass --name, or remove it to use the host name.");
        }
        else if (options.Name.Length > 128 || options.Name.Any(char.IsControl))
        {
            failures.Add($"{section}:Name '{options.Name}' is invalid: use at most 128 printable characters.");
        }

        if (options.Slots is < 1 or > ProvisionerDaemonOptions.MaxSlots)
        {
            failures.Add($"--slots is {options.Slots}: give a number from 1 to {ProvisionerDaemonOptions.MaxSlots}; run more daemons for more concurrency.");
        }

        if (string.IsNullOrWhiteSpace(options.CacheDirectory))
        {
            failures.Add($"{section}:CacheDirectory is empty: pass --cache-dir with a writable directory.");
        }
        else if (!Path.IsPathFullyQualified(options.CacheDirectory))
        {
            failures.Add($"--cache-dir '{options.CacheDirectory}' is relative: give an absolute path.");
        }

        if (options.TerraformPath is { } terraform && !File.Exists(terraform))
        {
            failures.Add($"--terraform-path '{terraform}' does not exist: give the path of a terraform (or tofu) executable, or leave it out to use terraform from PATH.");
        }

        if (!Enum.IsDefined(options.Sandbox))
        {
            failures.Add($"--isolation '{options.Sandbox}' is not an isolation mode: use none, bubblewrap, docker or auto.");
        }

        if (options.BubblewrapPath is { } bwrap && !Path.IsPathFullyQualified(bwrap))
        {
            failures.Add($"--bwrap-path '{bwrap}' is not an absolute path: give the full path of bwrap, or leave it out to use bwrap from PATH.");
        }

        CheckAddress(failures, "--metrics-address", options.MetricsAddress);
        CheckAddress(failures, "--health-address", options.HealthAddress);

        CheckDuration(failures, nameof(options.HeartbeatInterval), options.HeartbeatInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5));
        CheckDuration(failures, nameof(options.LogFlushInterval), options.LogFlushInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        CheckDuration(failures, nameof(options.ForceCancelTimeout), options.ForceCancelTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        CheckDuration(failures, nameof(options.ShutdownTimeout), options.ShutdownTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(24));
        if (options.DrainTimeout < TimeSpan.Zero || options.DrainTimeout > TimeSpan.FromDays(7))
        {
            failures.Add($"--drain-timeout is {options.DrainTimeout}: give a duration from 0s (cancel running jobs at once) to 7 days (default 2h).");
        }
        CheckDuration(failures, nameof(options.ReconnectInitialDelay), options.ReconnectInitialDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10));
        CheckDuration(failures, nameof(options.ReconnectMaxDelay), options.ReconnectMaxDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        if (options.ReconnectMaxDelay < options.ReconnectInitialDelay)
        {
            failures.Add($"{section}:ReconnectMaxDelay ({options.ReconnectMaxDelay}) is shorter than ReconnectInitialDelay ({options.ReconnectInitialDelay}): the cap must be at least the first delay.");
        }

        if (options.LogFlushLines is < 1 or > 10_000)
        {
            failures.Add($"{section}:LogFlushLines is {options.LogFlushLines}: give a number from 1 to 10000 (default 2000).");
        }

        if (options.OfflineLogBufferLines < options.LogFlushLines)
        {
            failures.Add($"{section}:OfflineLogBufferLines is {options.OfflineLogBufferLines}: it must hold at least LogFlushLines ({options.LogFlushLines}) lines (default 10000).");
        }

        if (options.InlineStateLimitBytes < 0)
        {
            failures.Add($"{section}:InlineStateLimitBytes is {options.InlineStateLimitBytes}: give 0 (always upload) or a positive size (default 1 MiB).");
        }

        return failures;
    }

    private static void CheckAddress(List<string> failures, string flag, string? address)
    {
        if (address is not null && ParseListenAddress(address) is null)
        {
            failures.Add($"{flag} '{address}' is not host:port: give e.g. 127.0.0.1:2112 or 0.0.0.0:8080 (the host an IP address, localhost or *).");
        }
    }

    private static void CheckDuration(List<string> failures, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{ProvisionerDaemonOptions.SectionName}:{name} is {value}: give a duration from {min} to {max}.");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex ProvisionerTypeName();
}
