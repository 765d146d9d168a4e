using Markdig;
using Markdig.Syntax;

using Microsoft.AspNetCore.Components;

namespace Provisioning.Dashboard.Components;

/// <summary>
/// A template's README.md as HTML. Template authors are not trusted with the dashboard's page: raw HTML in the
/// Markdown is shown as text (DisableHtml), and links keep only http(s), mailto and relative targets.
/// </summary>
internal static class Readme
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseAdvancedExtensions()
        .DisableHtml()
        .Build();

    public static MarkupString Render(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var link in document.Descendants<Markdig.Syntax.Inlines.LinkInline>())
        {
            if (link.Url is { } url && !IsSafe(url))
            {
                link.Url = "#";
            }
        }

        return new MarkupString(document.ToHtml(Pipeline));
    }

    private static bool IsSafe(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) || url.StartsWith('#') || url.StartsWith('/')
        || !url.Contains(':', StringComparison.Ordinal);
}
