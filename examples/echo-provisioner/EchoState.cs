using System.Text.Json;

using Google.Protobuf;

namespace Provisioning.Examples.EchoProvisioner;

/// <summary>What the echo provisioner planned and applied; serialized, it is the plan and the state.</summary>
internal sealed record EchoState(string Transition, int BuildNumber, IReadOnlyList<EchoState.Resource> Resources)
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Reads a previous build's state; null when there is none or it is not this provisioner's.</summary>
    public static EchoState? Read(ByteString state)
    {
        if (state.IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<EchoState>(state.Span, Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <param name="SensitiveKeys">Metadata keys whose values came from sensitive variables: reported with Sensitive set, so they are hidden.</param>
    internal sealed record Resource(string Name, string Type, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<string> SensitiveKeys);
}
