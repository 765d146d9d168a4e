using Spectre.Console;

namespace Provisioning.Cli.Commands;

/// <summary>
/// Where the CLI writes for people: Spectre.Console on a terminal (colors, tables, spinners, prompts), plain lines
/// everywhere else, so output piped to a file or another program carries no escape sequences and is never wrapped.
/// <c>NO_COLOR</c> (https://no-color.org) and <c>TERM=dumb</c> turn colors and spinners off on a terminal too.
/// </summary>
internal static class CliConsole
{
    private static readonly Lazy<IAnsiConsole> Ansi = new(() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
        Out = new AnsiConsoleOutput(Console.Out),
    }));

    /// <summary>Both ends are a terminal: questions can be asked and answered.</summary>
    public static bool IsInteractive => !Console.IsInputRedirected && !Console.IsOutputRedirected;

    /// <summary>Whether stdout gets colors and live displays.</summary>
    public static bool IsStyled => StyledFor(Console.IsOutputRedirected, Environment.GetEnvironmentVariable("NO_COLOR"), Environment.GetEnvironmentVariable("TERM"));

    /// <summary>The Spectre console for prompts and styled output (only meaningful when <see cref="IsStyled"/> or <see cref="IsInteractive"/>).</summary>
    public static IAnsiConsole Out => Ansi.Value;

    /// <summary>Colors only on a terminal, and not when NO_COLOR is set (to anything) or TERM is dumb.</summary>
    public static bool StyledFor(bool outputRedirected, string? noColor, string? term) =>
        !outputRedirected && string.IsNullOrEmpty(noColor) && !string.Equals(term, "dumb", StringComparison.Ordinal);

    /// <summary>A section heading (<c>==&gt; text</c>).</summary>
    public static void Heading(string text)
    {
        if (IsStyled)
        {
            Out.MarkupLine($"[bold blue]==>[/] [bold]{Markup.Escape(text)}[/]");
        }
        else
        {
            Console.WriteLine("==> " + text);
        }
    }

    /// <summary>A line in <paramref name="style"/> (a Spectre style such as "green" or "grey") on a terminal, plain elsewhere.</summary>
    public static void Line(string text, string style)
    {
        if (IsStyled)
        {
            Out.MarkupLine($"[{style}]{Markup.Escape(text)}[/]");
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    public static void Success(string text) => Line(text, "green");

    /// <summary>A warning on stderr, one line.</summary>
    public static void Warning(string text) => WriteError("warning: ", text, ConsoleColor.Yellow);

    /// <summary>An error on stderr, one line: what went wrong and what to do.</summary>
    public static void Error(string text) => WriteError("error: ", text, ConsoleColor.Red);

    /// <summary>Runs <paramref name="work"/> under a spinner on a terminal; elsewhere just runs it.</summary>
    public static async Task<T> SpinAsync<T>(string status, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!IsStyled)
        {
            return await work().ConfigureAwait(false);
        }

        return await Out.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(status), _ => work()).ConfigureAwait(false);
    }

    /// <summary>A table: bordered and colored on a terminal, aligned plain columns elsewhere (what scripts parse).</summary>
    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (!IsStyled)
        {
            TextTable.Write(headers, rows);
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey);
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn($"[bold]{Markup.Escape(header.ToUpperInvariant())}[/]"));
        }

        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(cell => new Text(cell))]);
        }

        Out.Write(table);
    }

    private static void WriteError(string prefix, string text, ConsoleColor color)
    {
        // One line whatever the message holds, so a script reading stderr gets one record per problem.
        var line = prefix + TerminalText.Clean(text).ReplaceLineEndings(" ");
        var styled = StyledFor(Console.IsErrorRedirected, Environment.GetEnvironmentVariable("NO_COLOR"), Environment.GetEnvironmentVariable("TERM"));
        if (styled)
        {
            Console.ForegroundColor = color;
        }

        Console.Error.WriteLine(line);
        if (styled)
        {
            Console.ResetColor();
        }
    }
}
