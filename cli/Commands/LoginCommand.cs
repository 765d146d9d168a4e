using System.CommandLine;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary>
/// <c>provisioning login URL [--token T | --token-file PATH]</c>: checks the token against the coordinator and stores both
/// under $PROVISIONING_HOME. Without them it uses PROVISIONING_SESSION_TOKEN (or _FILE), else the session file already there
/// (the one `provisioning server` writes for its admin on this machine).
/// </summary>
internal static class LoginCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("url") { Description = "The coordinator's URL, e.g. http://127.0.0.1:3000." };
        var token = new SecretOption("--token", CliConfig.TokenVariable, $"An API token (default: ${CliConfig.TokenVariable}, else {CliConfig.SessionFile}).");
        var command = new Command("login", "Log in to a coordinator: store its URL, a session token and the TLS files given (--tls-ca-file, …) under $PROVISIONING_HOME.") { url, token.Value, token.File };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var address = CliConfig.ParseUrl(parse.GetValue(url)!);
                var secret = token.Resolve(parse, Console.Error)
                    ?? (File.Exists(CliConfig.SessionFile) ? (await File.ReadAllTextAsync(CliConfig.SessionFile, cancellationToken).ConfigureAwait(false)).Trim() : null);
                if (string.IsNullOrEmpty(secret))
                {
                    throw new CliException($"No token: pass --token <token> (an admin creates one with POST /api/v1/users), or log in on the server's machine where {CliConfig.SessionFile} exists.");
                }

                var tls = CliTls.Given(parse);
                using var client = ProvisioningClient.Create(address, secret, tls);
                var me = await client.GetMeAsync(cancellationToken).ConfigureAwait(false);
                CliConfig.Save(address, secret);
                CliConfig.SaveTls(tls.CaFile, tls.ClientCertificateFile, tls.ClientKeyFile);
                Console.WriteLine($"Logged in to {address.ToString().TrimEnd('/')} as {me.Username} ({me.Role}); session stored in {CliConfig.SessionFile}.");
                return 0;
            }
            catch (Exception exception) when (exception is CliException or ProvisioningApiException or IOException or Provisioning.Daemon.Coordinator.CoordinatorTlsException)
            {
                await Console.Error.WriteLineAsync("error: " + exception.Message).ConfigureAwait(false);
                return 1;
            }
            catch (HttpRequestException exception)
            {
                var address = parse.GetValue(url)!;
                var why = Provisioning.Daemon.Coordinator.CoordinatorClientTls.DescribeHandshakeFailure(exception, CliConfig.ParseUrl(address))
                    ?? $"cannot reach the coordinator at {address}: {exception.Message} Is `provisioning server` running there?";
                await Console.Error.WriteLineAsync("error: " + why).ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
