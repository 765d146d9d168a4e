using System.Runtime.InteropServices;

using Microsoft.Extensions.Logging;

using Provisioning.Examples.EchoProvisioner;
using Provisioning.Sdk.Provisioners;

// Usage: Provisioning.Examples.EchoProvisioner --socket /tmp/echo.sock
var socketPath = args.Length == 2 && args[0] == "--socket" && args[1].Length > 0 ? args[1] : null;
if (socketPath is null)
{
    await Console.Error.WriteLineAsync("usage: Provisioning.Examples.EchoProvisioner --socket PATH\n  serves provisioner.proto over gRPC on the Unix socket PATH until SIGINT or SIGTERM (or, started by a daemon, until the daemon ends).");
    return 2;
}

using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
var logger = loggerFactory.CreateLogger("Provisioning.Examples.EchoProvisioner");

// Started by a daemon (`provisioner start --provisioner echo=PATH`): stop when it ends, even when it is killed, rather
// than live on holding a socket nobody uses. Run by hand, this token never fires.
using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(DaemonLifeline.WatchDaemon(logger));

// Both signals end the server gracefully; without these handlers SIGTERM would kill it without removing its socket.
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    shutdown.Cancel();
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var provisioner = new EchoProvisioner(loggerFactory.CreateLogger<EchoProvisioner>());
await using (var server = new ProvisionerGrpcServer(socketPath, provisioner, loggerFactory: loggerFactory))
{
    await server.StartAsync(shutdown.Token);
    EchoLog.Listening(logger, server.SocketPath);
    try
    {
        await Task.Delay(Timeout.Infinite, shutdown.Token);
    }
    catch (OperationCanceledException)
    {
        // A signal asked us to stop, or the daemon that started us is gone.
    }
}

EchoLog.Stopped(logger);
return 0;
