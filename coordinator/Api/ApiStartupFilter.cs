using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

using Provisioning.Coordinator.Listeners;

namespace Provisioning.Coordinator.Api;

/// <summary>
/// Puts status-code pages at the front of the pipeline, so that errors answered before an endpoint runs
/// (a body that is not valid JSON, an unknown route, a wrong method) are ProblemDetails JSON too.
/// A startup filter, because the composition only receives the endpoint builder. Then <see cref="ListenerRouting"/>, so that
/// nothing of the REST API is served on the daemons' gRPC port or the metrics port. The exception handler comes first of
/// all, so that a database outage during authentication is a 503 with its reason (<see cref="DatabaseUnavailableHandler"/>).
/// </summary>
internal sealed class ApiStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<ListenerRouting>();
        next(app);
    };
}
