using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Provisioning.Coordinator.Api;

/// <summary>
/// Puts status-code pages at the front of the pipeline, so that errors answered before an endpoint runs
/// (a body that is not valid JSON, an unknown route, a wrong method) are ProblemDetails JSON too.
/// A startup filter, because the composition only receives the endpoint builder.
/// </summary>
internal sealed class ApiStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseStatusCodePages();
        next(app);
    };
}
