using Google.Protobuf;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Sdk.Tests;

public sealed class ProtocolTests
{
    [Fact]
    public void Request_RoundTripsThroughTheWireFormat_KeepsItsFields()
    {
        var request = new Request
        {
            Plan = new PlanRequest
            {
                Metadata = new Metadata { WorkspaceName = "dev", WorkspaceTransition = WorkspaceTransition.Stop, WorkspaceBuildNumber = 3 },
                RichParameterValues = { new RichParameterValue { Name = "region", Value = "eu" } },
            },
        };

        var parsed = Request.Parser.ParseFrom(request.ToByteArray());

        Assert.Equal(Request.TypeOneofCase.Plan, parsed.TypeCase);
        Assert.Equal("dev", parsed.Plan.Metadata.WorkspaceName);
        Assert.Equal(3, parsed.Plan.Metadata.WorkspaceBuildNumber);
        Assert.Equal("eu", parsed.Plan.RichParameterValues.Single().Value);
    }
}
