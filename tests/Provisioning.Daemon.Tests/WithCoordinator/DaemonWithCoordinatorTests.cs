using System.Net;

using Google.Protobuf;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using Npgsql;

using Provisioning.Coordinator;
using Provisioning.Coordinator.Daemons;
using Provisioning.Coordinator.Jobs;
using Provisioning.Coordinator.Queueing;
using Provisioning.Daemon.Tests.Support;
using Provisioning.Sdk.Daemon;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Daemon.Tests.WithCoordinator;

/// <summary>The daemon against the real coordinator (its gRPC service, ledger and Hangfire queue on its built-in PostgreSQL).</summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonWithCoordinatorTests(TerraformCacheFixture terraform)
{
    private const string Psk = "daemon-tests-pre-shared-key-0123";

    private const string Template = """
        variable "greeting" {
          type    = string
          default = "hello"
        }

        variable "farewell" {
          type    = string
          default = "bye"
        }

        resource "terraform_data" "home" {
          input = var.greeting
          provisioner "local-exec" {
            command = "echo home says ${var.greeting} and ${var.farewell}"
          }
        }
        """;

    [Fact(Timeout = 300_000)]
    public async Task Daemon_WithTheRealCoordinator_ImportsATemplateAndBuildsAWorkspaceIntoTheLedger()
    {
        // Arrange: a coordinator host with its built-in PostgreSQL, serving gRPC over cleartext HTTP/2.
        var cancellationToken = TestContext.Current.CancellationToken;
        var home = Path.Combine(Path.GetTempPath(), "provisioning-daemon-coordinator-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(home);
        if (!OperatingSystem.IsWindows())
        {
            // The built-in PostgreSQL runs as the postgres user when the tests run as root: it must traverse this folder.
            File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordinator:HomeDirectory"] = home,
            ["Coordinator:ProvisionerPsk"] = Psk,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper));
        builder.AddCoordinator();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapCoordinator();
        await app.StartAsync(cancellationToken);
        try
        {
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            var queue = app.Services.GetRequiredService<ProvisionerJobQueue>();
            var dataSource = app.Services.GetRequiredService<NpgsqlDataSource>();
            var archive = new Blob { Inline = ByteString.CopyFrom(await Templates.PackAsync(Template, cancellationToken)) };
            await using var daemon = DaemonHarness.Start(address, terraform.Directory, options => options.PreSharedKey = Psk);

            // Act: import a template version, then build a workspace from it.
            var owner = await ScalarAsync<Guid>(dataSource, "INSERT INTO users (username, email) VALUES ('alice', 'alice@example.com') RETURNING id", cancellationToken);
            var template = await ScalarAsync<Guid>(dataSource, "INSERT INTO templates (name) VALUES ('daemon-test') RETURNING id", cancellationToken);
            var import = await queue.Ledger.InsertAsync(
                new NewProvisionerJob(ProvisionerJobType.TemplateVersionImport, "terraform", new Dictionary<string, string>(), ProvisionerJobInputs.ToInput(Templates.Import(archive, ("greeting", "hi")))),
                cancellationToken);
            var version = await ScalarAsync<Guid>(dataSource, $"INSERT INTO template_versions (template_id, name, job_id) VALUES ('{template}', 'v1', '{import.Id}') RETURNING id", cancellationToken);
            await queue.PublishAsync(import, cancellationToken);
            var imported = await WaitForEndAsync(queue, import.Id, cancellationToken);

            var workspace = await ScalarAsync<Guid>(dataSource, $"INSERT INTO workspaces (owner_id, template_id, name) VALUES ('{owner}', '{template}', 'dev') RETURNING id", cancellationToken);
            var build = await queue.Ledger.InsertAsync(
                new NewProvisionerJob(ProvisionerJobType.WorkspaceBuild, "terraform", new Dictionary<string, string>(), ProvisionerJobInputs.ToInput(Templates.Build(archive, WorkspaceTransition.Start, 1, variables: ("greeting", "hi")))),
                cancellationToken);
            await ScalarAsync<int>(dataSource, $"INSERT INTO workspace_builds (workspace_id, template_version_id, build_number, transition, job_id) VALUES ('{workspace}', '{version}', 1, 'start', '{build.Id}') RETURNING 1", cancellationToken);
            await queue.PublishAsync(build, cancellationToken);
            var built = await WaitForEndAsync(queue, build.Id, cancellationToken);

            // Assert: both succeeded, and the ledger holds what the daemon reported.
            Assert.True(imported.Status == ProvisionerJobStatus.Succeeded, $"import ended {imported.Status}: {imported.Error}");
            Assert.True(built.Status == ProvisionerJobStatus.Succeeded, $"build ended {built.Status}: {built.Error}");
            Assert.Equal("hi", await ScalarAsync<string>(dataSource, $"SELECT value FROM template_version_variables WHERE template_version_id = '{version}' AND name = 'greeting'", cancellationToken));
            // A variable the author gave no value keeps none: Terraform applies the template's default,
            // shown as the plain string (not JSON-quoted).
            Assert.Equal("bye", await ScalarAsync<string>(dataSource, $"SELECT default_value FROM template_version_variables WHERE template_version_id = '{version}' AND name = 'farewell' AND value IS NULL", cancellationToken));
            var state = await ScalarAsync<byte[]>(dataSource, $"SELECT provisioner_state FROM workspace_builds WHERE job_id = '{build.Id}'", cancellationToken);
            Assert.Contains("terraform_data.home", Templates.StateResources(ByteString.CopyFrom(state)));
            var stages = await ListAsync(dataSource, $"SELECT stage FROM provisioner_job_logs WHERE job_id = '{build.Id}' AND source = 'provisioner_daemon' AND output = stage ORDER BY id", cancellationToken);
            Assert.Equal(["Setting up", "Planning infrastructure", "Applying changes", "Cleaning up"], stages);
            var applyLines = await ListAsync(dataSource, $"SELECT output FROM provisioner_job_logs WHERE job_id = '{build.Id}' AND source = 'provisioner' AND stage = 'Applying changes' ORDER BY id", cancellationToken);
            Assert.Contains(applyLines, line => line.EndsWith("(local-exec): home says hi and bye", StringComparison.Ordinal));
            await daemon.AssertCleanedUpAsync(cancellationToken);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            try
            {
                Directory.Delete(home, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<ProvisionerJob> WaitForEndAsync(ProvisionerJobQueue queue, Guid jobId, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var job = await queue.Ledger.GetAsync(jobId, cancellationToken) ?? throw new InvalidOperationException($"Job {jobId} vanished.");
            if (job.Status is ProvisionerJobStatus.Succeeded or ProvisionerJobStatus.Failed or ProvisionerJobStatus.Canceled)
            {
                return job;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"Job {jobId} is still {job.Status} after two minutes.");
            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<List<string>> ListAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var values = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
