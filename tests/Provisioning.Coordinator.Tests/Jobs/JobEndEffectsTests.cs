using Dapper;

using Npgsql;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Tests.Jobs;

public sealed class JobEndEffectsTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public async Task Triggers_OnProvisionerJobs_AreExactlyTheOnesJobEndEffectsNames()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);

        var triggers = await connection.QueryAsync<string>(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'provisioner_jobs'::regclass AND NOT tgisinternal ORDER BY tgname");

        Assert.Equal(JobEndEffects.Triggers.Order(StringComparer.Ordinal), triggers);
    }
}
