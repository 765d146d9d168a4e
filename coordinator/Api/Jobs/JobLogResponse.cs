namespace Provisioning.Coordinator.Api.Jobs;

/// <summary>One log line; <see cref="Id"/> is the cursor to pass as <c>after</c> to get the lines that follow it.</summary>
internal sealed record JobLogResponse(long Id, DateTime CreatedAt, string Source, string Level, string Stage, string Output);
