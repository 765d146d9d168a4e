using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

using Provisioning.Coordinator.Api;
using Provisioning.Coordinator.Api.Auth;
using Provisioning.Dashboard.Session;

namespace Provisioning.Dashboard.Components;

/// <summary>
/// A page for signed-in users: sends anyone else to the sign-in page, loads through the data-access layer with the
/// caller, and turns its refusals into the page's answer: 404 (not there, or not yours: the same, as in the API), 403
/// (yours to see, not to change) and the other refusals as a message on the page. Form handlers run after
/// <see cref="LoadAsync"/>, then redirect (post/redirect/get), so a reload never repeats an action.
/// </summary>
public abstract class DashboardPage : ComponentBase
{
    [CascadingParameter]
    public HttpContext? HttpContext { get; set; }

    [Inject]
    protected NavigationManager Navigation { get; set; } = default!;

    /// <summary>Set when the page's subject does not exist for this caller; the page then shows only this.</summary>
    protected string? NotFoundMessage { get; private set; }

    /// <summary>A refusal of the last action (409 a build already running, 403 not allowed, 400 a bad value).</summary>
    protected string? ActionError { get; set; }

    /// <summary>The request field the refusal named (e.g. <c>rich_parameter_values.region</c>), to show it beside that field.</summary>
    protected string? ActionErrorField { get; set; }

    public ApiUser Caller => DashboardSession.Caller(HttpContext!);

    protected CancellationToken Aborted => HttpContext?.RequestAborted ?? CancellationToken.None;

    protected override async Task OnInitializedAsync()
    {
        if (!Caller.IsAuthenticated)
        {
            var here = "/" + Navigation.ToBaseRelativePath(Navigation.Uri);
            Navigation.NavigateTo("/login?returnUrl=" + Uri.EscapeDataString(here));
            return;
        }

        try
        {
            await LoadAsync().ConfigureAwait(true);
        }
        catch (ApiProblemException problem) when (problem.Status is StatusCodes.Status404NotFound or StatusCodes.Status403Forbidden)
        {
            SetStatus(problem.Status);
            NotFoundMessage = problem.Message;
        }
    }

    /// <summary>Reads what the page shows, through the data-access layer with <see cref="Caller"/>.</summary>
    protected abstract Task LoadAsync();

    /// <summary>
    /// Runs a form's action; a refusal (the API's rule, the same message) stays on the page with its field, success
    /// redirects to <paramref name="then"/> (or reloads this page).
    /// </summary>
    protected async Task ActAsync(Func<Task<string?>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        string? then;
        try
        {
            then = await action().ConfigureAwait(true);
        }
        catch (ApiProblemException problem)
        {
            SetStatus(problem.Status);
            ActionError = problem.Message;
            ActionErrorField = problem.Field;
            return;
        }

        Navigation.NavigateTo(then ?? Navigation.Uri);
    }

    /// <summary>Answers with <paramref name="status"/> and this page as its body.</summary>
    protected void SetStatus(int status) => DashboardStatus.Set(HttpContext!, status);

    /// <summary>A value of the posted form, or null.</summary>
    protected string? Form(string name) =>
        HttpContext is { Request.HasFormContentType: true } http && http.Request.Form.TryGetValue(name, out var value) ? value.ToString() : null;
}
