using System.Diagnostics;

using Grpc.Core;
using Grpc.Net.Client;

using Provisioning.Coordinator.Daemons;
using Provisioning.Daemon.Coordinator;
using Provisioning.Sdk.Daemon;

namespace Provisioning.Bench;

/// <summary>
/// A daemon that speaks provisionerd.proto and does no work: Register, then per job an AcquireJob stream (ready,
/// read the job) and an immediate CompleteJob with an empty result of the job's type. Its own HTTP/2 connection,
/// like a separate process would have. A daemon of several slots runs one <see cref="RunAsync"/> loop per slot.
/// </summary>
internal sealed class TestDaemon : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly ProvisionerDaemon.ProvisionerDaemonClient _client;
    private readonly Action<Guid, long> _acquired;
    private readonly Action<Guid> _completed;
    private readonly int _slots;
    private Metadata? _headers;

    /// <param name="acquired">Called with the job id and <see cref="Stopwatch.GetTimestamp"/> as soon as the job arrives, before completing it.</param>
    /// <param name="completed">Called once CompleteJob was acknowledged.</param>
    /// <param name="slots">The slots it registers with (run as many <see cref="RunAsync"/> loops).</param>
    public TestDaemon(Uri address, string name, Action<Guid, long> acquired, Action<Guid> completed, int slots = 1)
    {
        _completed = completed;
        _slots = slots;
        _channel = GrpcChannel.ForAddress(address);
        _client = new ProvisionerDaemon.ProvisionerDaemonClient(_channel);
        _acquired = acquired;
        Name = name;
    }

    public string Name { get; }

    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var response = await _client.RegisterAsync(
            new RegisterRequest { Daemon = new DaemonInfo { Name = Name, Version = "bench", Provisioners = { "terraform" }, Slots = _slots } },
            new Metadata { { ProvisionerDaemonMetadata.ProvisionerPsk, BenchCoordinator.Psk } },
            cancellationToken: cancellationToken);

        // Every call after Register presents the daemon's session: job calls carry only a job id.
        _headers = new Metadata
        {
            { ProvisionerDaemonMetadata.ProvisionerPsk, BenchCoordinator.Psk },
            { ProvisionerDaemonMetadata.DaemonSession, response.SessionToken },
        };
    }

    /// <summary>Acquires and completes jobs until <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="waiting">Called each time a stream has sent "ready" and waits for a job.</param>
    /// <param name="retried">When given, a stream that fails as a real daemon would retry (<see cref="CoordinatorConnection.IsTransient"/>) is opened again after a second, and this is called; otherwise the failure ends the loop.</param>
    public async Task RunAsync(CancellationToken cancellationToken, Action? waiting = null, Action<RpcException>? retried = null)
    {
        var headers = _headers ?? throw new InvalidOperationException("Register the daemon first.");
        while (!cancellationToken.IsCancellationRequested)
        {
            string jobId;
            AcquiredJob.TypeOneofCase type;
            try
            {
                using var call = _client.AcquireJob(headers, cancellationToken: cancellationToken);
                await call.RequestStream.WriteAsync(new AcquireRequest { Ready = new AcquireRequest.Types.Ready() }, cancellationToken);
                waiting?.Invoke();
                if (!await call.ResponseStream.MoveNext(cancellationToken))
                {
                    continue;
                }

                var timestamp = Stopwatch.GetTimestamp();
                jobId = call.ResponseStream.Current.JobId;
                type = call.ResponseStream.Current.TypeCase;
                if (jobId.Length == 0)
                {
                    // The coordinator is stopping.
                    return;
                }

                _acquired(Guid.Parse(jobId), timestamp);
                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException exception) when (exception.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException exception) when (retried is not null && CoordinatorConnection.IsTransient(exception))
            {
                // A busy coordinator: open the stream again shortly, as a real daemon does.
                retried(exception);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            // Complete even when the run is over: a held job must not be left behind.
            var completed = new CompletedJob { JobId = jobId };
            switch (type)
            {
                case AcquiredJob.TypeOneofCase.TemplateImport:
                    completed.TemplateImport = new CompletedJob.Types.TemplateImport();
                    break;
                case AcquiredJob.TypeOneofCase.WorkspaceBuild:
                    completed.WorkspaceBuild = new CompletedJob.Types.WorkspaceBuild();
                    break;
                default:
                    completed.TemplateDryRun = new CompletedJob.Types.TemplateDryRun();
                    break;
            }

            await _client.CompleteJobAsync(completed, headers, cancellationToken: CancellationToken.None);
            _completed(Guid.Parse(jobId));
        }
    }

    public void Dispose() => _channel.Dispose();
}
