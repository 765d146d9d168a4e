using System.CommandLine;
using System.Globalization;

using Provisioning.Cli.Client;
using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary>The workspace commands: <c>create</c>, <c>start</c>, <c>stop</c>, <c>delete</c>, <c>update</c>, <c>restart</c>, <c>list</c>, <c>show</c>, <c>logs</c>.</summary>
internal static class WorkspaceCommands
{
    public static IEnumerable<Command> Create() =>
    [
        CreateCreate(),
        CreateStart(),
        CreateTransition("stop", "Stop a workspace: build it with the stop transition (what persists stays)."),
        CreateDelete(),
        CreateUpdate(),
        CreateRestart(),
        CreateList(),
        CreateShow(),
        CreateLogs(),
    ];

    private static Command CreateCreate()
    {
        var name = new Argument<string>("workspace") { Description = "The new workspace's name." };
        var template = new Option<string>("--template", "-t") { Description = "The template to build it from (its active version).", Required = true };
        var parameters = ParameterInput.ParameterOption();
        var file = ParameterInput.FileOption();
        var preset = new Option<string?>("--preset") { Description = "A preset of the template's active version whose parameter values to use (see `templates presets list`)." };
        var yes = CliCommon.YesOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Only preview: plan the template's active version with these values, print the resources it would create, and create nothing." };
        var command = new Command(
            "create",
            "Create a workspace from a template and build it, asking on a terminal for parameter values not given (and showing a preview before asking to confirm).")
        {
            name, template, parameters, file, preset, yes, dryRun,
        };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspaceName = parse.GetValue(name)!;
            var templateName = parse.GetValue(template)!;
            var values = ParameterInput.Read(parse, parameters, file);
            var found = await client.FindTemplateAsync(templateName, cancellationToken).ConfigureAwait(false)
                ?? throw new CliException($"Template '{templateName}' does not exist: see `provisioning templates list`.");
            var versionName = found.ActiveVersionName
                ?? throw new CliException($"Template '{found.Name}' has no version whose import succeeded yet: push one with `provisioning templates push {found.Name}`.");
            var version = await client.GetTemplateVersionAsync(found.Name, versionName, cancellationToken).ConfigureAwait(false);
            var decided = new HashSet<string>(StringComparer.Ordinal);
            var presetName = parse.GetValue(preset);
            if (presetName is { Length: > 0 })
            {
                var chosen = (version.Presets ?? []).FirstOrDefault(item => item.Name == presetName)
                    ?? throw new CliException($"Version {version.Name} of template '{found.Name}' has no preset '{presetName}'"
                        + ((version.Presets ?? []).Count == 0 ? "; it has none." : $"; it has: {string.Join(", ", version.Presets!.Select(item => item.Name))}."));
                decided.UnionWith(chosen.Parameters.Select(item => item.Name ?? string.Empty));
                Console.WriteLine($"Using preset '{chosen.Name}': {string.Join(", ", chosen.Parameters.Select(item => $"{item.Name}={item.Value}"))}");
            }

            var yesGiven = parse.GetValue(yes);
            ParameterInput.Complete(version.Parameters, values, decided, yesGiven, CliConsole.IsInteractive ? new ParameterPrompter(CliConsole.Out) : null);
            var previewRequest = new CreateDryRunRequest([.. values.Select(pair => new NameValue(pair.Key, pair.Value))], presetName, workspaceName);
            if (parse.GetValue(dryRun))
            {
                var previewed = await PreviewAsync(client, found.Name, version.Name, previewRequest, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"Dry run only: workspace '{workspaceName}' was not created.");
                return previewed;
            }

            if (CliConsole.IsInteractive && !yesGiven)
            {
                ShowValues(values);
                if (await PreviewAsync(client, found.Name, version.Name, previewRequest, cancellationToken).ConfigureAwait(false) != 0)
                {
                    throw new CliException("The preview failed, so nothing was created: fix the template or the values (see the log above), or skip the preview with -y.");
                }

                if (!CliCommon.Confirm($"Create workspace '{workspaceName}' from template '{found.Name}' version {version.Name}?", yes: false))
                {
                    throw new CliException("Create canceled.");
                }
            }

            var workspace = await client.CreateWorkspaceAsync(
                new CreateWorkspaceRequest(workspaceName, found.Name, [.. values.Select(pair => new NameValue(pair.Key, pair.Value))], presetName),
                cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Created workspace '{workspace.Name}' from template '{workspace.TemplateName}' (version {workspace.LatestBuild.TemplateVersionName}).");
            return await FollowBuildAsync(client, workspace.LatestBuild, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateStart()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var parameters = ParameterInput.ParameterOption();
        var file = ParameterInput.FileOption();
        var yes = CliCommon.YesOption();
        var command = new Command("start", "Start a workspace: build it with the start transition (on the version it has; `update` moves it to the active one).")
        {
            name, parameters, file, yes,
        };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var values = ParameterInput.Read(parse, parameters, file);
            var build = await client.CreateBuildAsync(parse.GetValue(name)!, new CreateBuildRequest("start", ToNameValues(values), null), cancellationToken).ConfigureAwait(false);
            return await FollowBuildAsync(client, build, cancellationToken).ConfigureAwait(false);
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
            var build = await client.CreateBuildAsync(parse.GetValue(name)!, new CreateBuildRequest(transition, null, null), cancellationToken).ConfigureAwait(false);
            return await FollowBuildAsync(client, build, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateDelete()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var orphan = new Option<bool>("--orphan")
        {
            Description = "Remove the workspace without running Terraform, leaving its resources in place (for a state that cannot be destroyed; template admins on their own workspaces, admins on any).",
        };
        var yes = CliCommon.YesOption();
        var command = new Command("delete", "Delete a workspace: destroy its resources, then remove it.") { name, orphan, yes };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspace = parse.GetValue(name)!;
            if (parse.GetValue(orphan))
            {
                CliConsole.Warning($"--orphan removes workspace '{workspace}' WITHOUT destroying anything: every resource its Terraform state names stays where it is, "
                    + $"and you must clean it up yourself. Save its state first if you need it: provisioning state pull {workspace} > {workspace}.tfstate");
                if (!CliCommon.Confirm($"Orphan workspace '{workspace}'?", parse.GetValue(yes)))
                {
                    throw new CliException("Delete canceled.");
                }

                var orphaned = await client.CreateBuildAsync(workspace, new CreateBuildRequest("delete", null, null, null, Orphan: true), cancellationToken).ConfigureAwait(false);
                CliConsole.Success($"Workspace '{workspace}' removed without destroying its resources (build #{orphaned.BuildNumber}, orphan).");
                return 0;
            }

            if (!CliCommon.Confirm($"Delete workspace '{workspace}' and destroy its resources?", parse.GetValue(yes)))
            {
                throw new CliException("Delete canceled.");
            }

            var build = await client.CreateBuildAsync(workspace, new CreateBuildRequest("delete", null, null), cancellationToken).ConfigureAwait(false);
            return await FollowBuildAsync(client, build, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateUpdate()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var parameters = ParameterInput.ParameterOption();
        var file = ParameterInput.FileOption();
        var yes = CliCommon.YesOption();
        var command = new Command("update", "Rebuild a workspace (start) on its template's active version, asking on a terminal for parameters that version adds.")
        {
            name, parameters, file, yes,
        };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspace = await client.GetWorkspaceAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            var values = ParameterInput.Read(parse, parameters, file);
            var template = await client.FindTemplateAsync(workspace.TemplateName, cancellationToken).ConfigureAwait(false)
                ?? throw new CliException($"Template '{workspace.TemplateName}' of workspace '{workspace.Name}' no longer exists.");
            var active = template.ActiveVersionName ?? throw new CliException($"Template '{template.Name}' has no active version to update to.");
            var current = workspace.LatestBuild.TemplateVersionName;
            if (current == active && values.Count == 0)
            {
                Console.WriteLine($"Workspace '{workspace.Name}' is already on the active version {active} of template '{template.Name}'; nothing to update.");
                return 0;
            }

            var version = await client.GetTemplateVersionAsync(template.Name, active, cancellationToken).ConfigureAwait(false);
            var previous = workspace.LatestBuild.RichParameterValues.ToDictionary(value => value.Name, value => value.Value, StringComparer.Ordinal);
            ParameterInput.Complete(
                version.Parameters, values, previous.Keys.ToHashSet(StringComparer.Ordinal), parse.GetValue(yes),
                CliConsole.IsInteractive ? new ParameterPrompter(CliConsole.Out) : null, previous);
            Console.WriteLine($"Updating workspace '{workspace.Name}' from version {current} to {active} of template '{template.Name}'.");
            var build = await client.CreateBuildAsync(workspace.Name, new CreateBuildRequest("start", ToNameValues(values), active), cancellationToken).ConfigureAwait(false);
            return await FollowBuildAsync(client, build, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateRestart()
    {
        var name = new Argument<string>("workspace") { Description = "The workspace's name." };
        var parameters = ParameterInput.ParameterOption();
        var file = ParameterInput.FileOption();
        var yes = CliCommon.YesOption();
        var command = new Command("restart", "Restart a workspace: a stop build, then a start build (with any --parameter given).") { name, parameters, file, yes };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var workspace = parse.GetValue(name)!;
            var values = ParameterInput.Read(parse, parameters, file);
            if (CliConsole.IsInteractive && !CliCommon.Confirm($"Restart workspace '{workspace}'?", parse.GetValue(yes)))
            {
                throw new CliException("Restart canceled.");
            }

            var stop = await client.CreateBuildAsync(workspace, new CreateBuildRequest("stop", null, null), cancellationToken).ConfigureAwait(false);
            var stopped = await FollowBuildAsync(client, stop, cancellationToken).ConfigureAwait(false);
            if (stopped != 0)
            {
                return stopped;
            }

            var start = await client.CreateBuildAsync(workspace, new CreateBuildRequest("start", ToNameValues(values), null), cancellationToken).ConfigureAwait(false);
            return await FollowBuildAsync(client, start, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Runs a dry run of the version (Coder's workspace preview), following its log, and prints the resources it would
    /// create as a table; returns 0 when it succeeded, 1 otherwise (a refused value is a 400, shown as one line).
    /// </summary>
    private static async Task<int> PreviewAsync(ProvisioningClient client, string template, string version, CreateDryRunRequest request, CancellationToken cancellationToken)
    {
        var started = await client.CreateDryRunAsync(template, version, request, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"Dry run of template '{started.TemplateName}' version {started.TemplateVersionName}, job {started.Id}.");
        var job = await new JobFollower(client).FollowAsync(started.Id, cancellationToken).ConfigureAwait(false);
        if (job.Status != "succeeded")
        {
            CliConsole.Error($"The dry run {job.Status}: {job.Error ?? "no error reported"}.");
            return 1;
        }

        var resources = await client.GetDryRunResourcesAsync(started.TemplateName, started.TemplateVersionName, started.Id, cancellationToken).ConfigureAwait(false);
        var shown = resources.Where(resource => !resource.Hide).ToList();
        if (shown.Count == 0)
        {
            Console.WriteLine("The plan creates no resources.");
            return 0;
        }

        CliConsole.Heading($"A build would create {shown.Count} resource(s):");
        CliConsole.Table(
            ["resource", "agents", "apps", "metadata", "cost"],
            shown.Select(resource => (IReadOnlyList<string>)[
                $"{resource.Type}.{resource.Name}",
                resource.Agents.Count == 0 ? "-" : string.Join(", ", resource.Agents.Select(agent => $"{agent.Name} ({agent.OperatingSystem}/{agent.Architecture})")),
                resource.Agents.Sum(agent => agent.Apps.Count) == 0 ? "-" : string.Join(", ", resource.Agents.SelectMany(agent => agent.Apps).Select(app => app.Slug)),
                resource.Metadata.Count == 0 ? "-" : string.Join(", ", resource.Metadata.Select(item => $"{item.Key}={(item.Sensitive ? "(sensitive)" : item.Value)}")),
                resource.DailyCost == 0 ? "-" : resource.DailyCost.ToString(CultureInfo.InvariantCulture)]));
        return 0;
    }

    private static List<NameValue>? ToNameValues(Dictionary<string, string> values) =>
        values.Count == 0 ? null : [.. values.Select(pair => new NameValue(pair.Key, pair.Value))];

    private static void ShowValues(Dictionary<string, string> values)
    {
        if (values.Count > 0)
        {
            CliConsole.Table(["parameter", "value"], values.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => (IReadOnlyList<string>)[pair.Key, pair.Value]));
        }
    }

    private static async Task<int> FollowBuildAsync(ProvisioningClient client, Build build, CancellationToken cancellationToken)
    {
        Console.WriteLine($"Build #{build.BuildNumber} ({build.Transition}) of '{build.WorkspaceName}', job {build.Job.Id}.");
        BuildTimings? timings = null;
        var job = await new JobFollower(client).FollowAsync(
            build.Job.Id,
            cancellationToken,
            async token => timings = await ReadTimingsAsync(client, build, token).ConfigureAwait(false)).ConfigureAwait(false);
        var what = $"Build #{build.BuildNumber} ({build.Transition}) of workspace '{build.WorkspaceName}'";
        ShowStageDurations(timings);
        if (job.Status != "succeeded")
        {
            throw new CliException($"{what} {job.Status}: {(job.Error ?? "no error reported").TrimEnd('.')}. See `provisioning logs {build.WorkspaceName} --build {build.BuildNumber}`.");
        }

        CliConsole.Success($"{what} succeeded{JobFollower.Duration(job)}.{(build.Transition == "delete" ? " The workspace is gone." : string.Empty)}");
        return 0;
    }

    /// <summary>The build's timings once its job ended; null when they can't be read.</summary>
    private static async Task<BuildTimings?> ReadTimingsAsync(ProvisioningClient client, Build build, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetBuildTimingsAsync(build.WorkspaceName, build.BuildNumber, cancellationToken).ConfigureAwait(false);
        }
        catch (ProvisioningApiException)
        {
            // A delete build's workspace is gone once it succeeded: its timings are no longer reachable by name.
            return null;
        }
    }

    /// <summary>One line with how long each Terraform stage took (the build's timings, per stage); nothing when the daemon reported none.</summary>
    private static void ShowStageDurations(BuildTimings? timings)
    {
        if (timings is { Stages.Count: > 0 })
        {
            // One entry per stage in the order they began; a stage that ran several commands (plan: plan and show) adds them up.
            var stages = timings.Stages.GroupBy(stage => stage.Stage).Select(group => $"{group.Key} {Seconds(group.Sum(stage => stage.DurationSeconds))}");
            CliConsole.Line("Stages: " + string.Join(" · ", stages), "grey");
        }
    }

    private static string Seconds(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0}s");

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

            CliConsole.Table(
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
        var timings = new Option<bool>("--timings") { Description = "Show the latest build's stage and resource timings as a table (-o json: the timings object)." };
        var number = new Option<int?>("--build", "-b") { Description = "With --timings: the build number (default: the latest)." };
        var command = new Command("show", "Show a workspace: its latest build, resources, agents (apps, scripts in their order, devcontainers) and metadata.") { name, output, timings, number };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var workspace = await client.GetWorkspaceAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(timings))
            {
                var measured = await client.GetBuildTimingsAsync(workspace.Name, parse.GetValue(number) ?? workspace.LatestBuild.BuildNumber, cancellationToken).ConfigureAwait(false);
                if (json)
                {
                    CliCommon.WriteJson(measured);
                    return 0;
                }

                WriteTimings(measured);
                return 0;
            }

            if (json)
            {
                CliCommon.WriteJson(workspace);
                return 0;
            }

            var build = workspace.LatestBuild;
            Console.WriteLine($"Workspace {workspace.Name} (owner {workspace.OwnerName}, template {workspace.TemplateName} version {build.TemplateVersionName})");
            Console.WriteLine($"Latest build #{build.BuildNumber} {build.Transition}: {build.Job.Status}{(build.Job.Error is { } error ? " — " + error : string.Empty)}");
            if (build.HasExternalAgents)
            {
                Console.WriteLine("  external agents: yes (coder_external_agent: an agent runs on a machine the template does not build; start it there)");
            }

            if (build.Job.Tags.Count > 0)
            {
                // The tags the build was routed by: the template's, and its coder_workspace_tags evaluated with this build's values.
                Console.WriteLine($"  routed by tags {TextTable.Tags(build.Job.Tags)}");
            }

            if (build.Job.WaitingReason is { Length: > 0 } waiting)
            {
                Console.WriteLine($"  waiting: {waiting}");
            }
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
                    WriteAgentParts("          ", agent.Apps, agent.Scripts);
                    foreach (var devcontainer in agent.Devcontainers)
                    {
                        Console.WriteLine($"          devcontainer {devcontainer.Name}: {devcontainer.WorkspaceFolder}"
                            + (devcontainer.ConfigPath.Length > 0 ? $" (config {devcontainer.ConfigPath})" : string.Empty)
                            + (devcontainer.SubagentId.Length > 0 ? $", sub-agent {devcontainer.SubagentId}" : string.Empty));
                        WriteAgentParts("              ", devcontainer.Apps, devcontainer.Scripts);
                        foreach (var env in devcontainer.Envs)
                        {
                            // By name only, as the API gives them: the values are for the sub-agent.
                            Console.WriteLine($"              env {env.Name}{(env.MergeStrategy == "replace" ? string.Empty : $" ({env.MergeStrategy})")}");
                        }
                    }
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// The apps and scripts of an agent or of a devcontainer's sub-agent, one line each. A script names its own address
    /// because its dependencies (<c>coder_script_order</c>) are addresses: "after" lists the scripts it waits for.
    /// </summary>
    private static void WriteAgentParts(string indent, IReadOnlyList<App> apps, IReadOnlyList<Script> scripts)
    {
        foreach (var app in apps)
        {
            Console.WriteLine($"{indent}app {app.Slug}: {app.Url ?? app.Command ?? string.Empty}");
        }

        foreach (var script in scripts)
        {
            var when = new List<string>();
            if (script.RunOnStart)
            {
                when.Add("on start");
            }

            if (script.RunOnStop)
            {
                when.Add("on stop");
            }

            if (script.Cron.Length > 0)
            {
                when.Add($"cron {script.Cron}");
            }

            if (script.StartBlocksLogin)
            {
                when.Add("blocks login");
            }

            var after = script.Dependencies.Count == 0
                ? string.Empty
                : "; after: " + string.Join(", ", script.Dependencies.Select(dependency =>
                    dependency.PrerequisiteResourceAddress + (dependency.Requirement == "completion" ? " (completion)" : string.Empty)));
            var name = script.DisplayName.Length > 0 ? script.DisplayName : script.ResourceAddress;
            Console.WriteLine($"{indent}script {name} ({script.ResourceAddress}): {(when.Count == 0 ? "never run" : string.Join(", ", when))}{after}");
        }
    }

    private static void WriteTimings(BuildTimings timings)
    {
        if (timings.Stages.Count == 0 && timings.Resources.Count == 0)
        {
            Console.WriteLine($"Build #{timings.BuildNumber} has no timings: it has not ended, or its daemon reported none.");
            return;
        }

        Console.WriteLine($"Build #{timings.BuildNumber} (job {timings.JobId}):");
        CliConsole.Table(
            ["stage", "action", "resource", "state", "started", "duration"],
            timings.Stages.Concat(timings.Resources).OrderBy(timing => timing.StartedAt).Select(timing => (IReadOnlyList<string>)[
                timing.Stage, timing.Action, timing.Resource.Length > 0 ? timing.Resource : "-", timing.State, TextTable.Time(timing.StartedAt), Seconds(timing.DurationSeconds)]));
        var total = timings.Stages.Sum(stage => stage.DurationSeconds);
        Console.WriteLine($"Terraform stages: {Seconds(total)} in all.");
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

            await JobFollower.PrintStoredLogsAsync(client, build.Job.Id, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
