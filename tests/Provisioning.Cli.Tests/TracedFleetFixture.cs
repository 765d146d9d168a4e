namespace Provisioning.Cli.Tests;

/// <summary>
/// The fleet of <see cref="CliFleetFixture"/> with trace export configured the standard way (OTEL_EXPORTER_OTLP_* variables)
/// on the server and the daemon, both exporting to an <see cref="OtlpTraceReceiver"/>.
/// </summary>
public sealed class TracedFleetFixture : CliFleetFixture
{
    public OtlpTraceReceiver Receiver { get; private set; } = null!;

    protected override IReadOnlyDictionary<string, string>? ClientEnvironment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Receiver.Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200", // export within a fraction of a second, not the default 5 s
    };

    public override async ValueTask InitializeAsync()
    {
        Receiver = await OtlpTraceReceiver.StartAsync(CancellationToken.None);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
