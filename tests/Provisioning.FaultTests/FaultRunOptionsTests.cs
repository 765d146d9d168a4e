using Provisioning.FaultInjection;
using Provisioning.FaultInjection.Faults;

namespace Provisioning.FaultTests;

public sealed class FaultRunOptionsTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void Parse_NoArguments_DefaultsToCiRoundsAllFaultsAndARandomSeed()
    {
        var options = FaultRunOptions.Parse([], NoEnvironment);

        Assert.Equal(FaultRunOptions.DefaultRounds, options.Rounds);
        Assert.Equal(Enum.GetValues<FaultKind>(), options.Faults);
        Assert.True(options.Seed > 0);
        Assert.False(options.Keep);
    }

    [Fact]
    public void Parse_EnvironmentAndFlags_FlagWins()
    {
        var environment = new Dictionary<string, string>
        {
            [FaultRunOptions.RoundsVariable] = "7",
            [FaultRunOptions.SeedVariable] = "99",
            [FaultRunOptions.FaultsVariable] = "daemon-kill",
            [FaultRunOptions.KeepVariable] = "1",
        };

        var options = FaultRunOptions.Parse(["--rounds", "200", "--faults", "key-revoke,postgres-restart"], name => environment.GetValueOrDefault(name));

        Assert.Equal(200, options.Rounds);
        Assert.Equal(99, options.Seed);
        Assert.Equal([FaultKind.KeyRevoke, FaultKind.PostgresRestart], options.Faults);
        Assert.True(options.Keep);
    }

    [Theory]
    [InlineData("--rounds", "0", "--rounds")]
    [InlineData("--rounds", "many", "--rounds")]
    [InlineData("--seed", "-3", "--seed")]
    [InlineData("--faults", "daemon-kill,cosmic-ray", "cosmic-ray")]
    public void Parse_BadValue_SaysWhichFlag(string flag, string value, string named)
    {
        var error = Assert.Throws<FormatException>(() => FaultRunOptions.Parse([flag, value], NoEnvironment));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownArgument_ListsTheFlags()
    {
        var error = Assert.Throws<FormatException>(() => FaultRunOptions.Parse(["--round", "3"], NoEnvironment));

        Assert.Contains("--rounds N", error.Message, StringComparison.Ordinal);
    }
}
