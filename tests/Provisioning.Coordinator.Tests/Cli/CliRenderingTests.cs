using Provisioning.Cli.Commands;
using Provisioning.Cli.Config;
using Provisioning.Coordinator.Api.Templates;

using Spectre.Console.Testing;

namespace Provisioning.Coordinator.Tests.Cli;

/// <summary>The CLI's pure pieces: control-sequence stripping, color rules, the YAML parameter file, and prompts on a scripted terminal.</summary>
public sealed class CliRenderingTests
{
    private static TemplateParameterResponse Parameter(
        string name, string type = "string", string defaultValue = "", bool required = false, IReadOnlyList<ParameterOptionResponse>? options = null, string formType = "") =>
        new(name, string.Empty, string.Empty, type, true, defaultValue, required, false, 0, formType, options ?? []);

    [Theory]
    [InlineData("\u001b[31mred\u001b[0m", "red")]
    [InlineData("title\u001b]0;pwned\u0007 after", "title after")]
    [InlineData("link \u001b]8;;http://x\u001b\\text\u001b]8;;\u001b\\", "link text")]
    [InlineData("clear\u001b[2J\u001b[H screen", "clear screen")]
    [InlineData("bell\u0007 and\rreturn\bback", "bell andreturnback")]
    [InlineData("tab\tkept, ünïcode kept", "tab\tkept, ünïcode kept")]
    [InlineData("charset \u001b(0 switch", "charset  switch")]
    public void Clean_TemplateOutput_DropsControlSequencesAndKeepsText(string raw, string expected) =>
        Assert.Equal(expected, TerminalText.Clean(raw));

    [Theory]
    [InlineData(false, null, "xterm", true)]
    [InlineData(true, null, "xterm", false)]
    [InlineData(false, "1", "xterm", false)]
    [InlineData(false, "", "xterm", true)]
    [InlineData(false, null, "dumb", false)]
    public void StyledFor_NoColorDumbTerminalOrRedirect_TurnColorsOff(bool redirected, string? noColor, string term, bool expected) =>
        Assert.Equal(expected, CliConsole.StyledFor(redirected, noColor, term));

    [Fact]
    public void ReadFile_YamlMap_ReadsScalarsAsWrittenAndListsAsJson()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "region: eu\ncpus: 4\nenabled: true\ntools: [git, \"vim\"]\nempty: \"\"\n");

        var values = ParameterInput.ReadFile(file);
        File.Delete(file);

        Assert.Equal(new Dictionary<string, string> { ["region"] = "eu", ["cpus"] = "4", ["enabled"] = "true", ["tools"] = "[\"git\",\"vim\"]", ["empty"] = "" }, values);
    }

    [Theory]
    [InlineData("- a\n- b\n", "must be a map")]
    [InlineData("region: [unclosed\n", "is not valid YAML")]
    [InlineData("nested:\n  a: b\n", "must be a value or a list of values")]
    public void ReadFile_NotAFlatMap_FailsSayingWhy(string content, string expected)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, content);

        var exception = Assert.Throws<CliException>(() => ParameterInput.ReadFile(file));
        File.Delete(file);

        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Complete_WithoutTerminal_FailsOnARequiredParameterAndLeavesDefaultsToTheServer()
    {
        var values = new Dictionary<string, string>();

        var exception = Assert.Throws<CliException>(() => ParameterInput.Complete([Parameter("size", defaultValue: "s"), Parameter("region", required: true)], values, new HashSet<string>(), yes: false, prompter: null));

        Assert.Contains("Parameter 'region' is required", exception.Message, StringComparison.Ordinal);
        Assert.Empty(values);
    }

    [Fact]
    public void Complete_OnATerminal_AsksEveryMissingValue_AndWithYesOnlyThoseWithoutDefault()
    {
        var console = new TestConsole().Interactive();
        console.Input.PushTextWithEnter("eu-west");
        console.Input.PushTextWithEnter("");
        var values = new Dictionary<string, string>();
        TemplateParameterResponse[] parameters = [Parameter("region", required: true), Parameter("size", defaultValue: "small")];

        ParameterInput.Complete(parameters, values, new HashSet<string>(), yes: false, new ParameterPrompter(console));
        var withYes = new Dictionary<string, string>();
        var second = new TestConsole().Interactive();
        second.Input.PushTextWithEnter("us-east");
        ParameterInput.Complete(parameters, withYes, new HashSet<string>(), yes: true, new ParameterPrompter(second));

        Assert.Equal(new Dictionary<string, string> { ["region"] = "eu-west", ["size"] = "small" }, values);
        Assert.Equal(new Dictionary<string, string> { ["region"] = "us-east" }, withYes);
    }

    [Fact]
    public void Ask_NumberOutsideItsRange_AsksAgainWithTheValidationMessage()
    {
        var console = new TestConsole().Interactive();
        console.Input.PushTextWithEnter("12");
        console.Input.PushTextWithEnter("4");
        var cpus = Parameter("cpus", "number", "2") with { ValidationMin = 1, ValidationMax = 8 };

        var value = new ParameterPrompter(console).Ask(cpus);

        Assert.Equal("4", value);
        Assert.Contains("value 12 is more than the maximum 8", console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Ask_Options_OffersThemWithTheDefaultFirst()
    {
        var console = new TestConsole().Interactive();
        console.Input.PushKey(ConsoleKey.DownArrow);
        console.Input.PushKey(ConsoleKey.Enter);
        var region = Parameter("region", defaultValue: "us", options: [new("Europe", "eu", ""), new("US", "us", "")]);

        var value = new ParameterPrompter(console).Ask(region);

        Assert.Equal("eu", value);
    }

    [Fact]
    public void Ask_MultiSelectList_ReturnsTheChosenValuesAsJson()
    {
        var console = new TestConsole().Interactive();
        console.Input.PushKey(ConsoleKey.Spacebar);
        console.Input.PushKey(ConsoleKey.DownArrow);
        console.Input.PushKey(ConsoleKey.DownArrow);
        console.Input.PushKey(ConsoleKey.Spacebar);
        console.Input.PushKey(ConsoleKey.Enter);
        var tools = Parameter("tools", "list(string)", "[]", options: [new("Git", "git", ""), new("Vim", "vim", ""), new("Emacs", "emacs", "")], formType: "multiselect");

        var value = new ParameterPrompter(console).Ask(tools);

        Assert.Equal("[\"git\",\"emacs\"]", value);
    }

    [Theory]
    [InlineData("resource \"terraform_data\" \"x\" {}\nvariable \"v\" {}\n", false)]
    [InlineData("resource \"docker_container\" \"x\" {}\n", true)]
    [InlineData("  data \"coder_parameter\" \"p\" {}\n", true)]
    [InlineData("terraform {\n  required_providers {}\n}\n", true)]
    public void UsesProviders_OnlyTemplatesBeyondBuiltInsNeedALockFile(string mainTf, bool expected)
    {
        var directory = Directory.CreateTempSubdirectory("uses-providers").FullName;
        File.WriteAllText(Path.Combine(directory, "main.tf"), mainTf);

        var uses = TemplatesCommand.UsesProviders(directory);
        Directory.Delete(directory, recursive: true);

        Assert.Equal(expected, uses);
    }
}
