using System.CommandLine;
using System.Globalization;

namespace Provisioning.Cli.Commands;

/// <summary><c>provisioning jobs list|cancel</c>: the queue as the coordinator sees it.</summary>
internal static class JobsCommand
{
    public static Command Create() => new("jobs", "See and cancel provisioner jobs (template imports and workspace builds).") { CreateList(), CreateCancel() };

    private static Command CreateList()
    {
        var status = new Option<string?>("--status", "-s") { Description = "Only jobs in these states: pending, running, canceling, succeeded, failed, canceled (comma-separated)." };
        var output = CliCommon.OutputOption();
        var command = new Command("list", "List jobs, with each pending job's queue position and why it waits.") { status, output };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var json = CliCommon.IsJson(parse, output);
            var jobs = await client.ListJobsAsync(parse.GetValue(status), cancellationToken).ConfigureAwait(false);
            if (json)
            {
                CliCommon.WriteJson(jobs);
                return 0;
            }

            CliConsole.Table(
                ["id", "type", "status", "tags", "queue", "created", "waiting / error"],
                jobs.Select(job => (IReadOnlyList<string>)[
                    job.Id.ToString(), job.Type, job.Status, TextTable.Tags(job.Tags),
                    job.QueuePosition is { } position ? string.Create(CultureInfo.InvariantCulture, $"{position}/{job.QueueSize}") : "-",
                    TextTable.Time(job.CreatedAt), job.WaitingReason ?? job.Error ?? string.Empty]));
            return 0;
        });
        return command;
    }

    private static Command CreateCancel()
    {
        var id = new Argument<Guid>("id") { Description = "The job's id (from `provisioning jobs list`)." };
        var command = new Command("cancel", "Cancel a job: a pending one at once, a running one after Terraform stops.") { id };
        command.SetClientAction(async (parse, client, cancellationToken) =>
        {
            var job = await client.CancelJobAsync(parse.GetValue(id), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Job {job.Id} is {job.Status}.");
            return 0;
        });
        return command;
    }
}
