using Provisioning.Cli.Commands;

namespace Provisioning.Coordinator.Tests.Cli;

public sealed class CliValuesTests
{
    [Theory]
    [InlineData("5m", 300)]
    [InlineData("30s", 30)]
    [InlineData("1h30m", 5400)]
    [InlineData("00:05:00", 300)]
    public void ParseDuration_GoStyleOrTimeSpan_GivesTheSpan(string value, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), CliValues.ParseDuration(value));
    }

    [Theory]
    [InlineData("5 minutes")]
    [InlineData("m5")]
    [InlineData("")]
    public void ParseDuration_Garbage_ThrowsSayingWhatToUse(string value)
    {
        var exception = Assert.Throws<FormatException>(() => CliValues.ParseDuration(value));

        Assert.Contains("1h30m", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("64MiB", 64L * 1024 * 1024)]
    [InlineData("100MB", 100_000_000L)]
    [InlineData("2048", 2048L)]
    [InlineData("1GiB", 1024L * 1024 * 1024)]
    public void ParseSize_NumberWithUnit_GivesBytes(string value, long bytes)
    {
        Assert.Equal(bytes, CliValues.ParseSize(value));
    }

    [Theory]
    [InlineData("127.0.0.1:3000", "http://127.0.0.1:3000")]
    [InlineData("https://0.0.0.0:8443", "https://0.0.0.0:8443")]
    public void ParseAddress_HostPortOrUrl_GivesAUrl(string value, string expected)
    {
        Assert.Equal(expected, CliValues.ParseAddress(value));
    }

    [Fact]
    public void ParseAddress_NoPort_Throws()
    {
        Assert.Throws<FormatException>(() => CliValues.ParseAddress("localhost"));
    }
}
