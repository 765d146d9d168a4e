using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Provisioners;

/// <summary>Drives whole requests over an <see cref="IProvisionerSessionClient"/>.</summary>
public static class ProvisionerSessionClientExtensions
{
    /// <summary>
    /// Sends a Parse, Plan or Apply request and reads its Logs (passed to <paramref name="onLog"/>, in
    /// order) until its Complete arrives, which it returns.
    /// </summary>
    /// <remarks>
    /// Canceling <paramref name="cancellationToken"/> does not abandon the request: it sends Cancel and
    /// keeps waiting for the Complete, which then carries an error (and, for Apply, the state written so
    /// far), so the caller never loses a state. To give up on a provisioner that does not answer,
    /// dispose the session.
    /// </remarks>
    /// <param name="client">The session.</param>
    /// <param name="request">A Parse, Plan or Apply request.</param>
    /// <param name="onLog">Receives each Log of the request; null to drop them.</param>
    /// <param name="cancellationToken">Asks the provisioner to stop the request gracefully.</param>
    /// <returns>The response holding the request's Complete.</returns>
    /// <exception cref="ProvisionerSessionException">The session ended before the Complete arrived, or answered with another Complete.</exception>
    public static async Task<Response> SendAndWaitAsync(this IProvisionerSessionClient client, Request request, Func<Log, ValueTask>? onLog = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        var expected = request.TypeCase switch
        {
            Request.TypeOneofCase.Parse => Response.TypeOneofCase.Parse,
            Request.TypeOneofCase.Plan => Response.TypeOneofCase.Plan,
            Request.TypeOneofCase.Apply => Response.TypeOneofCase.Apply,
            _ => throw new ArgumentException($"SendAndWaitAsync drives Parse, Plan and Apply requests; send {request.TypeCase} with SendAsync.", nameof(request)),
        };

        cancellationToken.ThrowIfCancellationRequested();

        // Not canceled midway: a request that may have reached the provisioner must be answered (and its
        // Complete read), so a cancellation from here on becomes a Cancel request below.
        await client.SendAsync(request, CancellationToken.None).ConfigureAwait(false);

        var canceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = cancellationToken.Register(() => canceled.TrySetResult());
        var cancelSent = false;
        var responses = client.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator(CancellationToken.None);
        await using (responses.ConfigureAwait(false))
        {
            while (true)
            {
                // A chatty build's Logs are mostly waiting already: only a response not yet here is raced against the
                // cancellation (a Task and a WhenAny per log line were a measurable part of the daemon's CPU per line).
                var next = responses.MoveNextAsync();
                if (!next.IsCompleted && !cancelSent)
                {
                    var pending = next.AsTask();
                    next = new ValueTask<bool>(pending);
                    if (await Task.WhenAny(pending, canceled.Task).ConfigureAwait(false) == canceled.Task)
                    {
                        cancelSent = true;
                        await client.SendAsync(new Request { Cancel = new CancelRequest() }, CancellationToken.None).ConfigureAwait(false);
                    }
                }
                else if (!cancelSent && canceled.Task.IsCompleted)
                {
                    cancelSent = true;
                    await client.SendAsync(new Request { Cancel = new CancelRequest() }, CancellationToken.None).ConfigureAwait(false);
                }

                if (!await next.ConfigureAwait(false))
                {
                    throw new ProvisionerSessionException($"The provisioner session ended before the {request.TypeCase} request completed. Check the provisioner's own logs for why it stopped.");
                }

                var response = responses.Current;
                if (response.TypeCase == Response.TypeOneofCase.Log)
                {
                    if (onLog is not null)
                    {
                        await onLog(response.Log).ConfigureAwait(false);
                    }

                    continue;
                }

                if (response.TypeCase != expected)
                {
                    throw new ProvisionerSessionException($"The provisioner answered a {request.TypeCase} request with a {response.TypeCase} complete; the provisioner breaks the protocol.");
                }

                return response;
            }
        }
    }
}
