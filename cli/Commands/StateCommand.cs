using System.CommandLine;

using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary><c>provisioning state pull|push</c>: read a build's Terraform state, or record a repaired one as a new build.</summary>
internal static class StateCommand
{
    public static Command Create() => new("state", "Read or replace a workspace's Terraform state.") { CreatePull(), CreatePush() };

    private static Command CreatePull()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var number = new Option<int?>("--build", "-b") { Description = "The build number (default: the latest)." };
        var command = new Command("pull", "Print a build's Terraform state (JSON) on stdout.") { name, number };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspace = parse.GetValue(name)!;
            var buildNumber = parse.GetValue(number) ?? (await client.GetWorkspaceAsync(workspace, cancellationToken).ConfigureAwait(false)).LatestBuild.BuildNumber;
            var state = await client.GetStateAsync(workspace, buildNumber, cancellationToken).ConfigureAwait(false)
                ?? throw new CliException($"Build #{buildNumber} of '{workspace}' recorded no state.");
            await using var stdout = Console.OpenStandardOutput();
            await stdout.WriteAsync(state, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command CreatePush()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var file = new Argument<string>("file") { Description = "The state file (JSON) to record." };
        var command = new Command("push", "Record a state as a new build of the workspace without running Terraform (template admins).") { name, file };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new CliException($"State file {path} does not exist.");
            }

            var build = await client.PutStateAsync(parse.GetValue(name)!, await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Recorded the state as build #{build.BuildNumber} of '{build.WorkspaceName}'.");
            return 0;
        });
        return command;
    }
}
