namespace Provisioning.Coordinator.Api.Templates;

/// <summary>A preset's <c>prebuilds.scheduling</c>: schedules read in an IANA time zone.</summary>
internal sealed record PrebuildSchedulingResponse(string Timezone, IReadOnlyList<PrebuildScheduleResponse> Schedules);
