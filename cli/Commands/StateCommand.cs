using System.CommandLine;

using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary>
/// <c>provisioning state pull|push|orphans|restore</c>: read a build's Terraform state, record a repaired one as a new
/// build, and list or restore the states that arrived after their build had ended (never discarded: invariant 3).
/// </summary>
internal static class StateCommand
{
    public static Command Create() => new("state", "Read or replace a workspace's Terraform state.") { CreatePull(), CreatePush(), CreateOrphans(), CreateRestore() };

    private static Command CreateOrphans()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var output = CliCommon.OutputOption();
        var command = new Command("orphans", "List states that arrived after their build had ended while a newer build existed.") { name, output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var orphans = await client.ListOrphanedStatesAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (CliCommon.IsJson(parse, output))
            {
                CliCommon.WriteJson(orphans);
                return 0;
            }

            if (orphans.Count == 0)
            {
                Console.WriteLine("No orphaned states.");
                return 0;
            }

            CliConsole.Table(
                ["id", "build", "size", "received", "restored", "reason"],
                orphans.Select(orphan => (IReadOnlyList<string>)[
                    orphan.Id.ToString(), "#" + orphan.BuildNumber, orphan.Size + " B", TextTable.Time(orphan.CreatedAt),
                    orphan.RestoredBuildNumber is { } restored ? "as build #" + restored : "-", orphan.Reason]));
            Console.WriteLine("Read one with `provisioning state pull WORKSPACE --orphan ID`; make it the workspace's state with `provisioning state restore WORKSPACE ID`.");
            return 0;
        });
        return command;
    }

    private static Command CreateRestore()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var id = new Argument<Guid>("orphan") { Description = "The orphaned state's id (from `provisioning state orphans`)." };
        var command = new Command("restore", "Record an orphaned state as a new build of the workspace, so the next build starts from it.") { name, id };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var build = await client.RestoreOrphanedStateAsync(parse.GetValue(name)!, parse.GetValue(id), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Restored the orphaned state as build #{build.BuildNumber} of '{build.WorkspaceName}'.");
            return 0;
        });
        return command;
    }

    private static Command CreatePull()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var number = new Option<int?>("--build", "-b") { Description = "The build number (default: the latest)." };
        var orphan = new Option<Guid?>("--orphan") { Description = "Print this orphaned state instead (see `provisioning state orphans`)." };
        var command = new Command("pull", "Print a build's Terraform state (JSON) on stdout.") { name, number, orphan };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspace = parse.GetValue(name)!;
            if (parse.GetValue(orphan) is { } orphanId)
            {
                var orphanState = await client.GetOrphanedStateAsync(workspace, orphanId, cancellationToken).ConfigureAwait(false);
                await using var output = Console.OpenStandardOutput();
                await output.WriteAsync(orphanState, cancellationToken).ConfigureAwait(false);
                return 0;
            }

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
