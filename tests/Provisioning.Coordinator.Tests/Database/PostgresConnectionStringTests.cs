using Provisioning.Coordinator.Database;

namespace Provisioning.Coordinator.Tests.Database;

public sealed class PostgresConnectionStringTests
{
    [Fact]
    public void Parse_Url_MapsEveryPart()
    {
        var builder = PostgresConnectionString.Parse("postgres://bob:s%40cret@db.example.com:6543/fleet?sslmode=require");

        Assert.Equal("db.example.com", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("bob", builder.Username);
        Assert.Equal("s@cret", builder.Password);
        Assert.Equal("fleet", builder.Database);
        Assert.Equal(Npgsql.SslMode.Require, builder.SslMode);
    }

    [Fact]
    public void Parse_ConnectionString_KeepsIt()
    {
        var builder = PostgresConnectionString.Parse("Host=localhost;Port=5433;Username=u;Database=d");

        Assert.Equal(5433, builder.Port);
        Assert.Equal("d", builder.Database);
    }

    [Fact]
    public void Parse_UnknownSslMode_ThrowsFormatException()
    {
        var exception = Assert.Throws<FormatException>(() => PostgresConnectionString.Parse("postgres://u@h/d?sslmode=sometimes"));

        Assert.Contains("sslmode", exception.Message, StringComparison.Ordinal);
    }
}
