using Grpc.Core;

namespace Provisioning.Daemon.Jobs;

/// <summary>The interpreted answer to one terminal report (see <see cref="TerminalReportSender"/>).</summary>
/// <param name="Kind">What the answer means for the state the daemon holds.</param>
/// <param name="Status">The gRPC status of the answer (<see cref="StatusCode.OK"/> when acknowledged).</param>
/// <param name="Detail">The coordinator's explanation, empty when acknowledged.</param>
internal sealed record ReportAnswer(ReportAnswerKind Kind, StatusCode Status, string Detail)
{
    public static readonly ReportAnswer Acknowledged = new(ReportAnswerKind.Acknowledged, StatusCode.OK, "");

    /// <summary>Whether the coordinator refused a completion's results as such (they can be reported as a failure instead).</summary>
    public bool RefusedResults => Kind == ReportAnswerKind.Refused && Status is StatusCode.InvalidArgument or StatusCode.ResourceExhausted or StatusCode.DataLoss;
}
