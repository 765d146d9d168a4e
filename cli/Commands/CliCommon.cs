using System.CommandLine;
using System.Text.Json;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary>What the client commands share: the --output option, k=v parsing, prompts, and turning failures into one line and an exit code.</summary>
internal static class CliCommon
{
    public static Option<string> OutputOption() => new("--output", "-o")
    {
        Description = "text (tables) or json (the API's objects).",
        DefaultValueFactory = _ => "text",
    };

    public static Option<bool> YesOption() => new("--yes", "-y") { Description = "Answer yes to every question." };

    public static Option<string[]> KeyValueOption(string name, string description) => new(name)
    {
        Description = description,
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static bool IsJson(ParseResult parse, Option<string> output) => parse.GetValue(output) switch
    {
        "json" => true,
        "text" or null => false,
        var other => throw new CliException($"Unknown --output '{other}': use text or json."),
    };

    public static void WriteJson<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, ProvisioningClient.Json));

    /// <summary>Parses repeated <c>key=value</c> flags; a key given twice keeps the last value.</summary>
    public static Dictionary<string, string> ParsePairs(IEnumerable<string>? values, string flag)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"{flag} '{value}' is not key=value: write e.g. {flag} region=eu.");
            }

            pairs[value[..equals].Trim()] = value[(equals + 1)..];
        }

        return pairs;
    }

    /// <summary>Asks a yes/no question on the terminal; without a terminal, only --yes says yes.</summary>
    public static bool Confirm(string question, bool yes)
    {
        if (yes)
        {
            return true;
        }

        if (Console.IsInputRedirected)
        {
            throw new CliException($"{question} Pass --yes (-y) to confirm without a terminal.");
        }

        Console.Error.Write($"{question} [y/N] ");
        var answer = Console.ReadLine()?.Trim();
        return answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Runs a client command with the login's client, reporting failures as one line on stderr.</summary>
    public static void SetClientAction(this Command command, Func<ParseResult, ProvisioningClient, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            Uri? target = null;
            try
            {
                var (url, token) = CliConfig.Resolve();
                target = url;
                using var client = ProvisioningClient.Create(url, token, CliTls.Resolve(parse));
                return await action(parse, client, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is CliException or ProvisioningApiException or Provisioning.Sdk.Archives.TemplateArchiveException or IOException or UnauthorizedAccessException or Provisioning.Daemon.Coordinator.CoordinatorTlsException)
            {
                CliConsole.Error(exception.Message);
                return exception is CliException cli ? cli.ExitCode : 1;
            }
            catch (HttpRequestException exception) when (target is not null)
            {
                var why = Provisioning.Daemon.Coordinator.CoordinatorClientTls.DescribeHandshakeFailure(exception, target)
                    ?? $"cannot reach the coordinator at {target.GetLeftPart(UriPartial.Authority)}: {Innermost(exception).Message} (is `provisioning server` running there? with mutual TLS, pass --tls-client-cert-file)";
                CliConsole.Error(why.ReplaceLineEndings(" "));
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("Interrupted.").ConfigureAwait(false);
                return 130;
            }
            catch (HttpRequestException exception)
            {
                CliConsole.Error($"The coordinator connection failed: {exception.Message}. Check that `provisioning server` runs at the URL you logged in to, then try again.");
                return 1;
            }
#pragma warning disable CA1031 // The last resort of a command line: one line saying what failed, never a stack trace.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                CliConsole.Error($"{exception.Message} ({exception.GetType().Name}; this is a bug in provisioning, please report it with the command you ran).");
                return 70;
            }
        });
    }

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception;
    }
}
