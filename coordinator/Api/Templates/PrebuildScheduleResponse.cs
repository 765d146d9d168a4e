namespace Provisioning.Coordinator.Api.Templates;

/// <summary>One prebuild schedule: while <paramref name="Cron"/> matches, a preset keeps <paramref name="Instances"/> prebuilds.</summary>
internal sealed record PrebuildScheduleResponse(string Cron, int Instances);
