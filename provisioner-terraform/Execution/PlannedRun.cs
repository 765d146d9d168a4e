using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.Execution;

/// <summary>
/// What Plan leaves in the session for Apply: the saved plan file (none when there was nothing to do)
/// and the inputs Apply must run with again, since local-exec and providers read them at apply time.
/// </summary>
internal sealed record PlannedRun(
    string? PlanFile,
    Metadata Metadata,
    IReadOnlyList<RichParameterValue> RichParameters,
    IReadOnlyList<ExternalAuthProvider> ExternalAuth,
    IReadOnlyList<string> SensitiveValues,
    IReadOnlyList<RichParameterValue> PreviousParameters)
{
    public bool NothingToDo => PlanFile is null;
}
