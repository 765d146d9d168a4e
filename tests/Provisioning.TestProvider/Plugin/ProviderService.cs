using Google.Protobuf;

using Grpc.Core;

using Provisioning.TestProvider.Coder;
using Provisioning.TestProvider.Cty;
using Provisioning.TestProvider.Schema;
using Provisioning.TestProvider.Tfplugin6;

namespace Provisioning.TestProvider.Plugin;

/// <summary>
/// tfplugin6's Provider service over <see cref="CoderProvider"/>: decodes msgpack values with the type's schema, runs
/// the provider's logic, encodes the answer. Provider errors are diagnostics, as Terraform expects; a gRPC error
/// is only for a request the protocol does not allow (an unknown type).
/// </summary>
internal sealed class ProviderService(CoderProvider provider) : Tfplugin6.Provider.ProviderBase
{
    public override Task<GetMetadata.Types.Response> GetMetadata(GetMetadata.Types.Request request, ServerCallContext context)
    {
        var response = new GetMetadata.Types.Response { ServerCapabilities = Capabilities() };
        response.Resources.AddRange(CoderSchemas.Resources.Keys.Select(name => new GetMetadata.Types.ResourceMetadata { TypeName = name }));
        response.DataSources.AddRange(CoderSchemas.DataSources.Keys.Select(name => new GetMetadata.Types.DataSourceMetadata { TypeName = name }));
        return Task.FromResult(response);
    }

    public override Task<GetProviderSchema.Types.Response> GetProviderSchema(GetProviderSchema.Types.Request request, ServerCallContext context)
    {
        var response = new GetProviderSchema.Types.Response
        {
            Provider = new Tfplugin6.Schema { Block = CoderSchemas.Provider.ToProto() },
            ServerCapabilities = Capabilities(),
        };
        foreach (var (name, schema) in CoderSchemas.Resources)
        {
            response.ResourceSchemas[name] = new Tfplugin6.Schema { Version = SchemaVersion(name), Block = schema.ToProto() };
        }

        foreach (var (name, schema) in CoderSchemas.DataSources)
        {
            response.DataSourceSchemas[name] = new Tfplugin6.Schema { Version = SchemaVersion(name), Block = schema.ToProto() };
        }

        return Task.FromResult(response);
    }

    public override Task<ValidateProviderConfig.Types.Response> ValidateProviderConfig(ValidateProviderConfig.Types.Request request, ServerCallContext context) =>
        Task.FromResult(new ValidateProviderConfig.Types.Response());

    public override Task<ConfigureProvider.Types.Response> ConfigureProvider(ConfigureProvider.Types.Request request, ServerCallContext context)
    {
        var config = Decode(request.Config, CoderSchemas.Provider);
        var response = new ConfigureProvider.Types.Response();
        response.Diagnostics.AddRange(provider.Configure(config).Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<ValidateResourceConfig.Types.Response> ValidateResourceConfig(ValidateResourceConfig.Types.Request request, ServerCallContext context)
    {
        var schema = Resource(request.TypeName);
        var response = new ValidateResourceConfig.Types.Response();
        response.Diagnostics.AddRange(CoderProvider.Validate(request.TypeName, schema, Decode(request.Config, schema) ?? []).Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<ValidateDataResourceConfig.Types.Response> ValidateDataResourceConfig(ValidateDataResourceConfig.Types.Request request, ServerCallContext context)
    {
        var schema = DataSource(request.TypeName);
        var response = new ValidateDataResourceConfig.Types.Response();
        response.Diagnostics.AddRange(CoderProvider.Validate(request.TypeName, schema, Decode(request.Config, schema) ?? []).Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<UpgradeResourceState.Types.Response> UpgradeResourceState(UpgradeResourceState.Types.Request request, ServerCallContext context)
    {
        var schema = Resource(request.TypeName);
        var response = new UpgradeResourceState.Types.Response();
        if (request.RawState.Json.IsEmpty)
        {
            response.Diagnostics.Add(new Diagnostic
            {
                Severity = Diagnostic.Types.Severity.Error,
                Summary = "The test provider reads JSON states only",
                Detail = $"The stored state of a {request.TypeName} is in the legacy flatmap format, which Terraform 0.11 wrote.",
            });
            return Task.FromResult(response);
        }

        var state = (Dictionary<string, object?>?)CtyJson.Decode(request.RawState.Json.Span, schema.ImpliedType);
        response.UpgradedState = Encode(state, schema);
        return Task.FromResult(response);
    }

    public override Task<ReadResource.Types.Response> ReadResource(ReadResource.Types.Request request, ServerCallContext context)
    {
        var schema = Resource(request.TypeName);
        var state = provider.Read(request.TypeName, Decode(request.CurrentState, schema));
        return Task.FromResult(new ReadResource.Types.Response { NewState = Encode(state, schema), Private = request.Private });
    }

    public override Task<PlanResourceChange.Types.Response> PlanResourceChange(PlanResourceChange.Types.Request request, ServerCallContext context)
    {
        var schema = Resource(request.TypeName);
        var (planned, replace, diagnostics) = CoderProvider.Plan(request.TypeName, Decode(request.PriorState, schema), Decode(request.ProposedNewState, schema));
        var response = new PlanResourceChange.Types.Response
        {
            PlannedState = Encode(planned, schema),
            PlannedPrivate = request.PriorPrivate,
            // The real provider is built on SDKv2, which sets this; without it Terraform would reject the defaults the
            // provider plans into attributes that are optional but not computed, as it does for the real one.
            LegacyTypeSystem = true,
        };
        response.RequiresReplace.AddRange(replace.Select(name => new AttributePath { Steps = { new AttributePath.Types.Step { AttributeName = name } } }));
        response.Diagnostics.AddRange(diagnostics.Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<ApplyResourceChange.Types.Response> ApplyResourceChange(ApplyResourceChange.Types.Request request, ServerCallContext context)
    {
        var schema = Resource(request.TypeName);
        var planned = Decode(request.PlannedState, schema);
        var (state, diagnostics) = provider.Apply(request.TypeName, planned);
        var response = new ApplyResourceChange.Types.Response
        {
            // A create that failed stores nothing; a failed replace keeps nothing either (the SDK's behaviour on a Create error).
            NewState = Encode(state, schema),
            Private = request.PlannedPrivate,
            LegacyTypeSystem = true,
        };
        response.Diagnostics.AddRange(diagnostics.Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<ImportResourceState.Types.Response> ImportResourceState(ImportResourceState.Types.Request request, ServerCallContext context)
    {
        var response = new ImportResourceState.Types.Response();
        response.Diagnostics.Add(new Diagnostic
        {
            Severity = Diagnostic.Types.Severity.Error,
            Summary = "Resource Import Not Implemented",
            Detail = $"This resource does not support import. Please contact the provider developer for additional information.",
        });
        return Task.FromResult(response);
    }

    public override Task<ReadDataSource.Types.Response> ReadDataSource(ReadDataSource.Types.Request request, ServerCallContext context)
    {
        var schema = DataSource(request.TypeName);
        var (state, diagnostics) = provider.ReadData(request.TypeName, Decode(request.Config, schema) ?? []);
        var response = new ReadDataSource.Types.Response { State = Encode(state, schema) };
        response.Diagnostics.AddRange(diagnostics.Select(ToProto));
        return Task.FromResult(response);
    }

    public override Task<GetFunctions.Types.Response> GetFunctions(GetFunctions.Types.Request request, ServerCallContext context) =>
        Task.FromResult(new GetFunctions.Types.Response());

    /// <summary>
    /// StopProvider asks to cancel operations in flight (Terraform was interrupted), not to exit: Terraform may still
    /// call the provider to finish and record what was applied. Every operation here is instant, so nothing is left to
    /// cancel; the process ends on GRPCController.Shutdown.
    /// </summary>
    public override Task<StopProvider.Types.Response> StopProvider(StopProvider.Types.Request request, ServerCallContext context) =>
        Task.FromResult(new StopProvider.Types.Response());

    private static ServerCapabilities Capabilities() => new() { PlanDestroy = false, GetProviderSchemaOptional = false };

    /// <summary>SchemaVersion 1 everywhere except coder_agent_instance and coder_workspace_owner, which declare none.</summary>
    private static long SchemaVersion(string type) => type is "coder_agent_instance" or "coder_workspace_owner" ? 0 : 1;

    private static SchemaBlock Resource(string type)
    {
        try
        {
            return CoderProvider.ResourceSchema(type);
        }
        catch (UnknownTypeException exception)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, exception.Message));
        }
    }

    private static SchemaBlock DataSource(string type)
    {
        try
        {
            return CoderProvider.DataSourceSchema(type);
        }
        catch (UnknownTypeException exception)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, exception.Message));
        }
    }

    private static Dictionary<string, object?>? Decode(DynamicValue? value, SchemaBlock schema)
    {
        if (value is null)
        {
            return null;
        }

        if (!value.Json.IsEmpty)
        {
            return (Dictionary<string, object?>?)CtyJson.Decode(value.Json.Span, schema.ImpliedType);
        }

        return (Dictionary<string, object?>?)CtyMsgpack.Decode(value.Msgpack.Memory, schema.ImpliedType);
    }

    private static DynamicValue Encode(Dictionary<string, object?>? value, SchemaBlock schema) =>
        new() { Msgpack = ByteString.CopyFrom(CtyMsgpack.Encode(value, schema.ImpliedType)) };

    private static Diagnostic ToProto(ProviderDiagnostic diagnostic)
    {
        var proto = new Diagnostic
        {
            Severity = diagnostic.IsWarning ? Diagnostic.Types.Severity.Warning : Diagnostic.Types.Severity.Error,
            Summary = diagnostic.Summary,
            Detail = diagnostic.Detail,
        };
        if (diagnostic.Path is { Count: > 0 } path)
        {
            proto.Attribute = new AttributePath();
            foreach (var step in path)
            {
                proto.Attribute.Steps.Add(step is long index
                    ? new AttributePath.Types.Step { ElementKeyInt = index }
                    : new AttributePath.Types.Step { AttributeName = (string)step });
            }
        }

        return proto;
    }
}
