using System.CommandLine;

using Provisioning.Cli.Commands;

var root = new RootCommand("Provisioning: a Terraform-driven provisioning worker fleet.")
{
    ServerCommand.Create(),
    LoginCommand.Create(),
    ProvisionerCommand.Create(),
    TemplatesCommand.Create(),
    JobsCommand.Create(),
    StateCommand.Create(),
    CompletionCommand.Create(),
};
foreach (var option in CliTls.All)
{
    root.Options.Add(option);
}

foreach (var command in WorkspaceCommands.Create())
{
    root.Subcommands.Add(command);
}

// The host handles SIGINT/SIGTERM itself (graceful stop, then the built-in PostgreSQL); System.CommandLine must
// not race it or kill the process after its own short timeout.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
