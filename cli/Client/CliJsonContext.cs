using System.Text.Json;
using System.Text.Json.Serialization;

namespace Provisioning.Cli.Client;

/// <summary>
/// Compile-time JSON metadata for the API's shapes the CLI reads and writes. Without it, the first (de)serialization
/// of each type builds its metadata by reflection and JIT-compiles the serializer's generic code for it: about a third
/// of what a short command such as `provisioning list` spent before its first byte reached the server
/// (bench/README.md, "Build overhead"). A type missing here still works: <see cref="ProvisioningClient.Json"/> falls
/// back to reflection for it.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true)]
[JsonSerializable(typeof(Agent))]
[JsonSerializable(typeof(App))]
[JsonSerializable(typeof(Build))]
[JsonSerializable(typeof(BuildInfo))]
[JsonSerializable(typeof(BuildTimings))]
[JsonSerializable(typeof(CreateBuildRequest))]
[JsonSerializable(typeof(CreateDryRunRequest))]
[JsonSerializable(typeof(CreatedProvisionerKey))]
[JsonSerializable(typeof(CreateProvisionerKeyRequest))]
[JsonSerializable(typeof(CreateTemplateVersionRequest))]
[JsonSerializable(typeof(CreateWorkspaceRequest))]
[JsonSerializable(typeof(DryRun))]
[JsonSerializable(typeof(Job))]
[JsonSerializable(typeof(JobLog))]
[JsonSerializable(typeof(JobEnd))]
[JsonSerializable(typeof(NameValue))]
[JsonSerializable(typeof(OrphanedState))]
[JsonSerializable(typeof(ProvisionerDaemon))]
[JsonSerializable(typeof(ProvisionerKey))]
[JsonSerializable(typeof(Resource))]
[JsonSerializable(typeof(ResourceMetadata))]
[JsonSerializable(typeof(Template))]
[JsonSerializable(typeof(TemplateParameter))]
[JsonSerializable(typeof(TemplatePreset))]
[JsonSerializable(typeof(TemplateVariable))]
[JsonSerializable(typeof(TemplateVersion))]
[JsonSerializable(typeof(Timing))]
[JsonSerializable(typeof(UploadedFile))]
[JsonSerializable(typeof(User))]
[JsonSerializable(typeof(Workspace))]
[JsonSerializable(typeof(IReadOnlyList<Template>))]
[JsonSerializable(typeof(IReadOnlyList<TemplateVersion>))]
[JsonSerializable(typeof(IReadOnlyList<Resource>))]
[JsonSerializable(typeof(IReadOnlyList<Workspace>))]
[JsonSerializable(typeof(IReadOnlyList<OrphanedState>))]
[JsonSerializable(typeof(IReadOnlyList<Job>))]
[JsonSerializable(typeof(IReadOnlyList<JobLog>))]
[JsonSerializable(typeof(IReadOnlyList<ProvisionerDaemon>))]
[JsonSerializable(typeof(IReadOnlyList<ProvisionerKey>))]
[JsonSerializable(typeof(IReadOnlyList<TemplatePreset>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
