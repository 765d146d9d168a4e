using System.CommandLine;
using System.Globalization;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary>The workspace commands: <c>create</c>, <c>start</c>, <c>stop</c>, <c>delete</c>, <c>list</c>, <c>show</c>, <c>logs</c>.</summary>
internal static class WorkspaceCommands
{
    public static IEnumerable<Command> Create() =>
    [
        CreateCreate(),
        CreateTransition("start", "Start a workspace: build it with the start transition."),
        CreateTransition("stop", "Stop a workspace: build it with the stop transition (what persists stays)."),
        CreateTransition("delete", "Delete a workspace: destroy its resources, then remove it."),
        CreateList(),
        CreateShow(),
        CreateLogs(),
    ];

    private static Command CreateCreate()
    {
        var name = new Argument<string>("workspace") { Description = "The new workspace's name." };
        var template = new Option<string>("--template", "-t") { Description = "The template to build it from (its active version).", Required = true };
        var parameters = CliCommon.KeyValueOption("--parameter", "A parameter name=value (repeatable).");
        var yes = CliCommon.YesOption();
        var command = new Command("create", "Create a workspace from a template and build it, showing the build's logs.") { name, template, parameters, yes };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var values = CliCommon.ParsePairs(parse.GetValue(parameters), "--parameter");
            var workspace = await client.CreateWorkspaceAsync(
                new CreateWorkspaceRequest(parse.GetValue(name)!, parse.GetValue(template)!, [.. values.Select(pair => new NameValue(pair.Key, pair.Value))]),
                cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Created workspace '{workspace.Name}' from template '{workspace.TemplateName}' (version {workspace.LatestBuild.TemplateVersionName}).");
            return await FollowBuildAsync(client, workspace.LatestBuild, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateTransition(string transition, string description)
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var yes = CliCommon.YesOption();
        var command = new Command(transition, description) { name, yes };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspace = parse.GetValue(name)!;
            if (transition == "delete" && !CliCommon.Confirm($"Delete workspace '{workspace}' and destroy its resources?", parse.GetValue(yes)))
            {
                throw new CliException("Delete canceled.");
            }

            var build = await client.CreateBuildAsync(workspace, new CreateBuildRequest(transition, null, null), cancellationToken).ConfigureAwait(false);
            return await FollowBuildAsync(client, build, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> FollowBuildAsync(ProvisioningClient client, Build build, CancellationToken cancellationToken)
    {
        Console.WriteLine($"Build #{build.BuildNumber} ({build.Transition}) of '{build.WorkspaceName}', job {build.Job.Id}.");
        var job = await new JobFollower(client).FollowAsync(build.Job.Id, cancellationToken).ConfigureAwait(false);
        var what = $"Build #{build.BuildNumber} ({build.Transition}) of workspace '{build.WorkspaceName}'";
        if (job.Status != "succeeded")
        {
            throw new CliException($"{what} {job.Status}: {job.Error ?? "no error reported"}. See `provisioning logs {build.WorkspaceName} --build {build.BuildNumber}`.");
        }

        Console.WriteLine($"{what} succeeded{JobFollower.Duration(job)}.{(build.Transition == "delete" ? " The workspace is gone." : string.Empty)}");
        return 0;
    }

    private static Command CreateList()
    {
        var output = CliCommon.OutputOption();
        var command = new Command("list", "List workspaces with their latest build.") { output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var workspaces = await client.ListWorkspacesAsync(cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(workspaces);
                return 0;
            }

            if (workspaces.Count == 0)
            {
                Console.WriteLine("No workspaces yet. Create one: provisioning create NAME -t TEMPLATE");
                return 0;
            }

            TextTable.Write(
                ["name", "template", "owner", "last build", "status", "created"],
                workspaces.Select(workspace => (IReadOnlyList<string>)[
                    workspace.Name, workspace.TemplateName, workspace.OwnerName,
                    string.Create(CultureInfo.InvariantCulture, $"#{workspace.LatestBuild.BuildNumber} {workspace.LatestBuild.Transition}"),
                    workspace.LatestBuild.Job.Status, TextTable.Time(workspace.CreatedAt)]));
            return 0;
        });
        return command;
    }

    private static Command CreateShow()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var output = CliCommon.OutputOption();
        var command = new Command("show", "Show a workspace: its latest build, resources, agents and metadata.") { name, output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var workspace = await client.GetWorkspaceAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(workspace);
                return 0;
            }

            var build = workspace.LatestBuild;
            Console.WriteLine($"Workspace {workspace.Name} (owner {workspace.OwnerName}, template {workspace.TemplateName} version {build.TemplateVersionName})");
            Console.WriteLine($"Latest build #{build.BuildNumber} {build.Transition}: {build.Job.Status}{(build.Job.Error is { } error ? " — " + error : string.Empty)}");
            foreach (var warning in workspace.Warnings ?? [])
            {
                Console.Error.WriteLine($"warning: {warning}");
            }

            foreach (var parameter in build.RichParameterValues)
            {
                Console.WriteLine($"  parameter {parameter.Name} = {parameter.Value}");
            }

            if (workspace.Resources.Count == 0)
            {
                Console.WriteLine("No resources.");
            }

            foreach (var resource in workspace.Resources.Where(resource => !resource.Hide))
            {
                Console.WriteLine($"  {resource.Type}.{resource.Name}{(resource.InstanceType.Length > 0 ? $" ({resource.InstanceType})" : string.Empty)}");
                foreach (var item in resource.Metadata)
                {
                    Console.WriteLine($"      {item.Key}: {(item.Sensitive ? "(sensitive)" : item.Value)}");
                }

                foreach (var agent in resource.Agents)
                {
                    Console.WriteLine($"      agent {agent.Name} ({agent.OperatingSystem}/{agent.Architecture}){(agent.Directory.Length > 0 ? " in " + agent.Directory : string.Empty)}");
                    foreach (var app in agent.Apps)
                    {
                        Console.WriteLine($"          app {app.Slug}: {app.Url ?? app.Command ?? string.Empty}");
                    }
                }
            }

            return 0;
        });
        return command;
    }

    private static Command CreateLogs()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var number = new Option<int?>("--build", "-b") { Description = "The build number (default: the latest)." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep following until the build ends." };
        var command = new Command("logs", "Print a build's logs.") { name, number, follow };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspace = parse.GetValue(name)!;
            var build = parse.GetValue(number) is { } chosen
                ? await client.GetBuildAsync(workspace, chosen, cancellationToken).ConfigureAwait(false)
                : (await client.GetWorkspaceAsync(workspace, cancellationToken).ConfigureAwait(false)).LatestBuild;
            if (parse.GetValue(follow))
            {
                var job = await new JobFollower(client).FollowAsync(build.Job.Id, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"Build #{build.BuildNumber} ({build.Transition}): {job.Status}{(job.Error is { } error ? " — " + error : string.Empty)}");
                return job.Status == "succeeded" ? 0 : 1;
            }

            long cursor = 0;
            while (true)
            {
                var logs = await client.GetJobLogsAsync(build.Job.Id, cursor, cancellationToken).ConfigureAwait(false);
                if (logs.Count == 0)
                {
                    break;
                }

                foreach (var log in logs)
                {
                    Console.WriteLine($"{TextTable.Time(log.CreatedAt)} {log.Stage,-32} {log.Level,-5} {log.Output}");
                    cursor = log.Id;
                }
            }

            return 0;
        });
        return command;
    }
}
