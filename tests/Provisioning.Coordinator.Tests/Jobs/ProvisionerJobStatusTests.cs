using Dapper;

using Npgsql;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Tests.Jobs;

public sealed class ProvisionerJobStatusTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    public static TheoryData<bool, bool, bool, string?, ProvisionerJobStatus> Cases => new()
    {
        // started, canceled, completed, error → status
        { false, false, false, null, ProvisionerJobStatus.Pending },
        { true, false, false, null, ProvisionerJobStatus.Running },
        { true, true, false, null, ProvisionerJobStatus.Canceling },
        { true, false, true, null, ProvisionerJobStatus.Succeeded },
        { true, false, true, "", ProvisionerJobStatus.Succeeded },
        { true, false, true, "terraform apply failed", ProvisionerJobStatus.Failed },
        { true, true, true, "canceled by user", ProvisionerJobStatus.Canceled },
        { false, true, true, null, ProvisionerJobStatus.Canceled },
        { false, false, true, "no provisioner matches tags", ProvisionerJobStatus.Failed },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Status_Timestamps_DeriveTheStatus(bool started, bool canceled, bool completed, string? error, ProvisionerJobStatus expected)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.ExecuteAsync("INSERT INTO provisioner_queues (name, provisioner, tags) VALUES ('status-test', 'terraform', '{}') ON CONFLICT DO NOTHING");

        var status = await connection.ExecuteScalarAsync<string>(
            """
            INSERT INTO provisioner_jobs (type, provisioner, queue, worker_id, started_at, canceled_at, completed_at, error)
            VALUES ('workspace_build', 'terraform', 'status-test',
                    CASE WHEN @started THEN gen_random_uuid() END,
                    CASE WHEN @started THEN now() END,
                    CASE WHEN @canceled THEN now() END,
                    CASE WHEN @completed THEN now() END,
                    @error)
            RETURNING status
            """,
            new { started, canceled, completed, error });

        Assert.Equal(expected, ProvisionerJobStatuses.Parse(status!));
        Assert.Equal(status, expected.ToText());
    }

    [Fact]
    public void Parse_UnknownText_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProvisionerJobStatuses.Parse("paused"));
    }
}
