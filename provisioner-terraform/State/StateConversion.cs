using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.State;

/// <summary>
/// One conversion of a list of Terraform resources plus their graph. Every resource type is processed in
/// address order, so the output never depends on the order of the input JSON or of hash maps; resources
/// come out sorted by address, parameters in module-traversal order (child modules first).
/// </summary>
internal sealed partial class StateConversion
{
    private const string AgentAttributes = "agent attributes";

    // Resource types that describe agents or other resources and so are not workspace resources themselves.
    private static readonly HashSet<string> NonResourceTypes = new(StringComparer.Ordinal)
    {
        "coder_script", "coder_agent", "coder_agent_instance", "coder_app", "coder_metadata",
    };

    private readonly TerraformGraph _graph;

    // By full address: a later module list (the plan's prior state) replaces an earlier entry of the same address,
    // as in the reference. Then the labels (graph node addresses) that have a resource agents and metadata may
    // attach to: one set rather than a map per label, which was a tenth of a 10,000-resource conversion.
    private readonly Dictionary<string, TerraformResource> _byAddress;
    private readonly HashSet<string> _attachableLabels;
    private readonly Dictionary<string, List<TerraformResource>> _byType = new(StringComparer.Ordinal);

    // Every resource of _byAddress, sorted by address once: the lists by type are filled from it in that order, and the
    // workspace resources are read from it, so a conversion sorts its resources once rather than twice.
    private readonly List<TerraformResource> _sortedByAddress;
    private readonly List<TerraformResource> _parameterResources = [];
    private readonly List<TerraformResource> _presetResources = [];

    // Agents by the label of the resource they run on, and all agents in creation (address) order.
    private readonly Dictionary<string, List<Agent>> _agentsByResourceLabel = new(StringComparer.Ordinal);
    private readonly List<Agent> _agents = [];

    // Each agent's Terraform address (agents are compared by reference: two agents can be equal messages), the
    // devcontainers attached to agents, and every coder_script by address with where it runs, for script ordering.
    private readonly Dictionary<Agent, string> _agentAddresses = new(ReferenceEqualityComparer.Instance);

    // Agents no resource holds (a stop or delete plan of a template whose compute has `count = start_count`): not
    // reported, but their scripts still run on them as far as script ordering is concerned (StateConversion.ScriptOrder.cs),
    // so a rule that orders them stays valid instead of failing the stop or delete build.
    private readonly Dictionary<Agent, string> _detachedAgentAddresses = new(ReferenceEqualityComparer.Instance);
    private readonly List<AttachedDevcontainer> _devcontainers = [];
    private readonly Dictionary<string, OrderableScript> _scriptsByAddress = new(StringComparer.Ordinal);

    // One delegate instance, so the graph's per-start cache of nearest matches is shared by all lookups.
    private readonly Func<TerraformGraphNode, bool> _isAttachableNode;

    public StateConversion(IReadOnlyList<TerraformResource> resources, TerraformGraph graph)
    {
        _graph = graph;
        _byAddress = new Dictionary<string, TerraformResource>(resources.Count, StringComparer.Ordinal);
        _attachableLabels = new HashSet<string>(resources.Count, StringComparer.Ordinal);
        _isAttachableNode = node => node.Address is { } label && _attachableLabels.Contains(label);
        foreach (var resource in resources)
        {
            if (resource.Type == "coder_parameter")
            {
                _parameterResources.Add(resource);
            }
            else if (resource.Type == "coder_workspace_preset")
            {
                _presetResources.Add(resource);
            }

            _byAddress[resource.Address] = resource;
        }

        _sortedByAddress = new List<TerraformResource>(_byAddress.Values);
        _sortedByAddress.Sort((a, b) => string.CompareOrdinal(a.Address, b.Address));
        foreach (var resource in _sortedByAddress)
        {
            if (resource.IsManaged
                && (!resource.Type.StartsWith("coder_", StringComparison.Ordinal) || resource.Type == "coder_external_agent"))
            {
                _attachableLabels.Add(resource.Label);
            }

            if (!_byType.TryGetValue(resource.Type, out var ofType))
            {
                ofType = [];
                _byType.Add(resource.Type, ofType);
            }

            ofType.Add(resource);
        }
    }

    public ConvertedState Run()
    {
        ConvertAgents();
        AttachDevcontainers();
        ApplyAgentInstances();
        AttachApps();
        AttachEnvs();
        AttachScripts();
        ApplyScriptOrder();
        var decorations = CollectMetadata();
        var resources = BuildResources(decorations);
        var parameters = ConvertParameters();
        var presets = ConvertPresets();
        var externalAuthProviders = ConvertExternalAuthProviders();
        return new ConvertedState(resources, parameters, externalAuthProviders, presets, HasExternalAgents());
    }

    private IReadOnlyList<TerraformResource> OfType(string type) =>
        _byType.TryGetValue(type, out var ofType) ? ofType : [];

    /// <summary>
    /// The label of the closest managed, non-<c>coder_*</c> resource reached from <paramref name="start"/>
    /// (towards dependents when <paramref name="upwards"/>, else towards dependencies); ties go to the
    /// smallest label. Null when there is none.
    /// </summary>
    private string? FindNearestResource(TerraformGraphNode start, bool upwards)
    {
        // The smallest by a loop rather than a sort: this runs once per agent and per metadata resource.
        string? nearest = null;
        foreach (var node in _graph.Nearest(start, upwards, _isAttachableNode))
        {
            if (nearest is null || string.CompareOrdinal(node.Address, nearest) < 0)
            {
                nearest = node.Address;
            }
        }

        return nearest;
    }

    /// <summary>
    /// Whether a resource with an <c>agent_id</c> belongs to <paramref name="agent"/>. After apply both ids
    /// are known and compared; in a plan both are still unknown, so a direct graph edge from the resource to
    /// the agent decides. Like the reference, this matches on <c>type.name</c>, so only root-module resources
    /// can match (a module resource's node is <c>module.x.type.name</c>).
    /// </summary>
    private bool DependsOnAgent(Agent agent, string resourceAgentId, TerraformResource resource)
    {
        if (agent.Id.Length == 0 && resourceAgentId.Length == 0)
        {
            return _graph.HasDirectEdge($"{resource.Type}.{resource.Name}", $"coder_agent.{agent.Name}");
        }

        return agent.Id == resourceAgentId;
    }

    // Spans, so the labels of thousands of nodes are not copied into strings to be looked at once.
    private bool HasExternalAgents() =>
        _graph.Nodes.Any(node => IsExternalAgentLabel(node.LabelSpan) || IsExternalAgentLabel(node.AddressSpan));

    private static bool IsExternalAgentLabel(ReadOnlySpan<char> label) =>
        label.StartsWith("coder_external_agent.", StringComparison.Ordinal)
        || label.Contains(".coder_external_agent.", StringComparison.Ordinal);
}
