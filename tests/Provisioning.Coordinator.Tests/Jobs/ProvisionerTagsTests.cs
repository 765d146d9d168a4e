using System.Text.RegularExpressions;

using Provisioning.Coordinator.Jobs;

namespace Provisioning.Coordinator.Tests.Jobs;

public sealed partial class ProvisionerTagsTests
{
    private static Dictionary<string, string> Tags(params string[] pairs) =>
        pairs.Select(pair => pair.Split('=')).ToDictionary(parts => parts[0], parts => parts[1]);

    [Theory]
    [InlineData(new string[0], new string[0], true)]
    [InlineData(new string[0], new[] { "region=eu" }, false)]
    [InlineData(new[] { "region=eu" }, new string[0], false)]
    [InlineData(new[] { "region=eu" }, new[] { "region=eu" }, true)]
    [InlineData(new[] { "region=eu" }, new[] { "region=eu", "gpu=true" }, true)]
    [InlineData(new[] { "region=eu", "gpu=true" }, new[] { "region=eu" }, false)]
    [InlineData(new[] { "region=eu" }, new[] { "region=us" }, false)]
    [InlineData(new[] { "region=eu" }, new[] { "Region=eu" }, false)]
    public void Matches_JobAndDaemonTags_FollowsSubsetRule(string[] job, string[] daemon, bool expected)
    {
        Assert.Equal(expected, ProvisionerTags.Matches(Tags(job), Tags(daemon)));
    }

    [Fact]
    public void QueueName_SameTagsInAnyOrder_IsTheSameValidHangfireName()
    {
        var first = ProvisionerTags.QueueName("terraform", Tags("b=2", "a=1"));
        var second = ProvisionerTags.QueueName("terraform", Tags("a=1", " b = 2 ".Trim()));

        Assert.Equal(first, second);
        Assert.Matches(HangfireQueueName(), first);
    }

    [Fact]
    public void QueueName_DifferentProvisionerOrTags_Differs()
    {
        var names = new[]
        {
            ProvisionerTags.QueueName("terraform", Tags()),
            ProvisionerTags.QueueName("terraform", Tags("a=1")),
            ProvisionerTags.QueueName("terraform", Tags("a=2")),
            ProvisionerTags.QueueName("echo", Tags("a=1")),
        };

        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public void Canonicalize_InvalidKey_ThrowsWithHint(string key)
    {
        var exception = Assert.Throws<ArgumentException>(() => ProvisionerTags.Canonicalize(new Dictionary<string, string> { [key] = "v" }));

        Assert.Contains("letters, digits", exception.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex("^[a-z0-9_-]+$")]
    private static partial Regex HangfireQueueName();
}
