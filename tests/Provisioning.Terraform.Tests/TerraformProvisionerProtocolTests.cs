using System.Text.Json;

using Google.Protobuf;

using Microsoft.Extensions.Logging.Abstractions;

using Provisioning.Sdk.Archives;
using Provisioning.Sdk.Protocol;
using Provisioning.Sdk.Provisioners;

namespace Provisioning.Terraform.Tests;

/// <summary>The provisioner as the daemon drives it: a packed template archive and requests over an in-process session.</summary>
[Collection(TerraformCollection.Name)]
public sealed class TerraformProvisionerProtocolTests(TerraformFixture fixture) : IDisposable
{
    private const string Template = """
        variable "workspace_transition" {
          type = string
        }

        variable "size" {
          type    = string
          default = "small"
        }

        resource "terraform_data" "disk" {
          input = var.size
        }

        resource "terraform_data" "slow" {
          count      = var.workspace_transition == "start" && var.size == "slow" ? 1 : 0
          depends_on = [terraform_data.disk]
          provisioner "local-exec" {
            command = "sleep 28.5"
          }
        }
        """;

    private readonly string _templateDirectory = Directory.CreateTempSubdirectory("provisioning-tf-template-").FullName;

    [Fact(Timeout = 120_000)]
    public async Task InProcessSession_StartThenDelete_CarriesStateBetweenSessions()
    {
        File.WriteAllText(Path.Combine(_templateDirectory, "main.tf"), Template);
        var connection = new InProcessProvisionerConnection(fixture.CreateProvisioner(), logger: NullLogger<ProvisionerSessionHost>.Instance);
        var cancellationToken = TestContext.Current.CancellationToken;
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(_templateDirectory, cancellationToken);

        ByteString state;
        await using (var session = await connection.OpenSessionAsync(cancellationToken))
        {
            await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive) } }, cancellationToken);
            var parse = (await session.SendAndWaitAsync(new Request { Parse = new ParseRequest() }, cancellationToken: cancellationToken)).Parse;
            Assert.Equal(["workspace_transition", "size"], parse.TemplateVariables.Select(v => v.Name));

            var logs = new List<Log>();
            var plan = (await session.SendAndWaitAsync(
                new Request { Plan = new PlanRequest { Metadata = new Metadata { WorkspaceName = "proto", WorkspaceTransition = WorkspaceTransition.Start } } },
                log => { logs.Add(log); return ValueTask.CompletedTask; },
                cancellationToken)).Plan;
            Assert.True(plan.Error == "", plan.Error);
            Assert.Contains(plan.Resources, r => r.Name == "disk");
            Assert.Contains(logs, log => log.Output.Contains("terraform_data.disk: Plan to create", StringComparison.Ordinal));

            var apply = (await session.SendAndWaitAsync(new Request { Apply = new ApplyRequest() }, cancellationToken: cancellationToken)).Apply;
            Assert.True(apply.Error == "", apply.Error);
            state = apply.State;
        }

        await using (var session = await connection.OpenSessionAsync(cancellationToken))
        {
            await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive), State = state } }, cancellationToken);
            var plan = (await session.SendAndWaitAsync(
                new Request { Plan = new PlanRequest { Metadata = new Metadata { WorkspaceName = "proto", WorkspaceTransition = WorkspaceTransition.Destroy } } },
                cancellationToken: cancellationToken)).Plan;
            Assert.True(plan.Error == "", plan.Error);

            var apply = (await session.SendAndWaitAsync(new Request { Apply = new ApplyRequest() }, cancellationToken: cancellationToken)).Apply;
            Assert.True(apply.Error == "", apply.Error);
            Assert.Empty(apply.Resources);
            using var destroyed = JsonDocument.Parse(apply.State.ToStringUtf8());
            Assert.Equal(0, destroyed.RootElement.GetProperty("resources").GetArrayLength());
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task InProcessSession_CancelDuringApply_CompleteCarriesCanceledAndPartialState()
    {
        File.WriteAllText(Path.Combine(_templateDirectory, "main.tf"), Template);
        var connection = new InProcessProvisionerConnection(fixture.CreateProvisioner(), logger: NullLogger<ProvisionerSessionHost>.Instance);
        var cancellationToken = TestContext.Current.CancellationToken;
        var (archive, _) = await new TemplateArchiveWriter().PackToBytesAsync(_templateDirectory, cancellationToken);
        await using var session = await connection.OpenSessionAsync(cancellationToken);
        await session.SendAsync(new Request { Config = new Config { TemplateSourceArchive = ByteString.CopyFrom(archive) } }, cancellationToken);
        var planRequest = new PlanRequest { Metadata = new Metadata { WorkspaceTransition = WorkspaceTransition.Start } };
        planRequest.VariableValues.Add(new VariableValue { Name = "size", Value = "slow" });
        var plan = (await session.SendAndWaitAsync(new Request { Plan = planRequest }, cancellationToken: cancellationToken)).Plan;
        Assert.True(plan.Error == "", plan.Error);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var apply = (await session.SendAndWaitAsync(
            new Request { Apply = new ApplyRequest() },
            log =>
            {
                if (log.Output.Contains("(local-exec): Executing", StringComparison.Ordinal))
                {
                    cancel.Cancel();
                }

                return ValueTask.CompletedTask;
            },
            cancel.Token)).Apply;

        Assert.True(cancel.IsCancellationRequested);
        Assert.Equal("canceled", apply.Error);
        using var partial = JsonDocument.Parse(apply.State.ToStringUtf8());
        Assert.Contains(partial.RootElement.GetProperty("resources").EnumerateArray(), r => r.GetProperty("name").GetString() == "disk");
    }

    public void Dispose() => Directory.Delete(_templateDirectory, recursive: true);
}
