using System.Collections.Concurrent;
using System.Text;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;

namespace Provisioning.Sdk.Tests.Provisioners;

/// <summary>
/// A provisioner for testing the host's ordering rules: it logs, records what it saw, and can be
/// made slow (waits until canceled) or failing per request type.
/// </summary>
internal sealed class ScriptedProvisioner : IProvisioner
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public string? LastWorkDirectory { get; private set; }

    /// <summary>Request types ("parse", "plan", "apply") that wait until canceled.</summary>
    public HashSet<string> Slow { get; } = [];

    /// <summary>Request types ("parse", "plan", "apply") that log without a pause until canceled.</summary>
    public HashSet<string> Chatty { get; } = [];

    /// <summary>Request types that throw <see cref="InvalidOperationException"/>.</summary>
    public HashSet<string> Throwing { get; } = [];

    /// <summary>Plans that answer with an error instead of succeeding.</summary>
    public bool FailPlan { get; set; }

    /// <summary>When set, every request waits for it (without observing cancellation) before its last log.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Signalled when a slow or gated request has started waiting.</summary>
    public TaskCompletionSource SlowStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<ParseComplete> ParseAsync(ProvisionerSession session, ParseRequest request, CancellationToken cancellationToken = default)
    {
        await StepAsync(session, "parse", cancellationToken);
        var readme = Path.Combine(session.WorkDirectory, "README.md");
        return new ParseComplete
        {
            Readme = Google.Protobuf.ByteString.CopyFrom(File.Exists(readme) ? File.ReadAllBytes(readme) : []),
            TemplateVariables = { new TemplateVariable { Name = "region", Type = "string" } },
        };
    }

    public async Task<PlanComplete> PlanAsync(ProvisionerSession session, PlanRequest request, CancellationToken cancellationToken = default)
    {
        await StepAsync(session, "plan", cancellationToken);
        if (FailPlan)
        {
            return new PlanComplete { Error = "plan failed on purpose" };
        }

        session.Items["plan"] = "plan for " + request.Metadata?.WorkspaceName;
        return new PlanComplete { Resources = { new Resource { Name = "dev", Type = "terraform_data" } } };
    }

    public async Task<ApplyComplete> ApplyAsync(ProvisionerSession session, ApplyRequest request, CancellationToken cancellationToken = default)
    {
        await StepAsync(session, "apply", cancellationToken);
        var plan = (string)session.Items["plan"];
        return new ApplyComplete { State = Google.Protobuf.ByteString.CopyFrom(Encoding.UTF8.GetBytes("state from " + plan)) };
    }

    private async Task StepAsync(ProvisionerSession session, string name, CancellationToken cancellationToken)
    {
        Calls.Enqueue(name);
        LastWorkDirectory = session.WorkDirectory;
        await session.LogAsync(LogLevel.Info, name + " 1", cancellationToken);
        await session.LogAsync(LogLevel.Debug, name + " 2", cancellationToken);
        if (Throwing.Contains(name))
        {
            throw new InvalidOperationException(name + " exploded");
        }

        if (Slow.Contains(name))
        {
            SlowStarted.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (Chatty.Contains(name))
        {
            SlowStarted.TrySetResult();
            while (!cancellationToken.IsCancellationRequested)
            {
                await session.LogAsync(LogLevel.Info, name + " chatter", CancellationToken.None);
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        if (Gate is { } gate)
        {
            SlowStarted.TrySetResult();
            await gate.Task;
        }

        await session.LogAsync(LogLevel.Info, name + " 3", CancellationToken.None);
    }
}
