using Microsoft.Extensions.Hosting;

using System.Runtime.InteropServices;

namespace Provisioning.TestProvider.Plugin;

/// <summary>
/// The host's lifetime as a go-plugin server has it: an interrupt (Ctrl+C reaches the whole process group, Terraform
/// included) is ignored, because Terraform itself decides when its providers stop (StopProvider, then Shutdown).
/// SIGTERM still ends the process.
/// </summary>
internal sealed class PluginLifetime : IHostLifetime, IDisposable
{
    private readonly PosixSignalRegistration? _interrupt = OperatingSystem.IsWindows() ? null
        : PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);

    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _interrupt?.Dispose();
}
