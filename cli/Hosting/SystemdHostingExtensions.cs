using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;

namespace Provisioning.Cli.Hosting;

/// <summary>
/// Running under systemd (deploy/systemd/): readiness notification and journal-friendly logs, with one call per command.
/// Unlike the package's <c>AddSystemd()</c> this keeps the console lifetime, so SIGINT and SIGTERM mean the same
/// inside and outside systemd (the daemon's SIGINT "cancel running jobs, then stop" relies on the console lifetime
/// stopping the host; systemd's lifetime only handles SIGTERM). Why: docs/decisions/0011-releases.md.
/// </summary>
public static class SystemdHostingExtensions
{
    /// <summary>
    /// When <c>NOTIFY_SOCKET</c> is set (systemd's <c>Type=notify</c>, or any supervisor speaking the same protocol, such as
    /// Podman's <c>--sdnotify</c>), sends <c>READY=1</c> once the host has started (every hosted service started, Kestrel
    /// listening) and <c>STOPPING=1</c> when it begins to stop. When the package counts the process as a systemd service
    /// (its parent is systemd, or it is PID 1 of a container with <c>NOTIFY_SOCKET</c>), console lines use the journal's format (<c>&lt;6&gt;category[event] message</c>: the priority becomes the journal's), except
    /// when JSON lines were asked for. Elsewhere it changes nothing.
    /// </summary>
    public static IServiceCollection AddProvisioningSystemd(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        var notifier = new SystemdNotifier();
        if (notifier.IsEnabled)
        {
            services.TryAddSingleton<ISystemdNotifier>(notifier);
            services.AddHostedService<SystemdReadinessNotifier>();
        }

        if (SystemdHelpers.IsSystemdService())
        {
            // PostConfigure: after the command's own AddSimpleConsole/AddJsonConsole, whatever order they were called in.
            services.PostConfigure<ConsoleLoggerOptions>(console =>
            {
                if (console.FormatterName is null or ConsoleFormatterNames.Simple)
                {
                    console.FormatterName = ConsoleFormatterNames.Systemd;
                }
            });

            // The daemon's job, daemon and slot scopes belong in the journal as much as on a terminal.
            services.Configure<ConsoleFormatterOptions>(formatter => formatter.IncludeScopes = true);
        }

        return services;
    }
}
