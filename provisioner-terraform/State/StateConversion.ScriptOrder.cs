using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Provisioning.Sdk.Protocol;

namespace Provisioning.Terraform.State;

/// <summary>
/// <c>coder_script_order</c> data sources (provider v2.20.0): each rule makes every script its <c>run</c> selectors
/// pick wait for every script its <c>after</c> selectors pick, to the outcome <c>requires</c> names. Rules are checked
/// and turned into one dependency graph per agent (or devcontainer sub-agent) and phase as the reference system's
/// provisioner does (provisioner/terraform/scriptorder), with its error messages; the result is carried on each
/// dependent script as <see cref="Script.Dependencies"/>. Why this shape: docs/decisions/0018-script-order-and-devcontainers.md.
/// </summary>
internal sealed partial class StateConversion
{
    private const string ScriptOrderAttributes = "script order attributes";
    private const string PhaseStart = "start";
    private const string PhaseStop = "stop";
    private const string RequiresSuccess = "success";
    private const string RequiresCompletion = "completion";

    // The reference bounds the run × after combinations of all rules together, so a template cannot make the
    // provisioner build an enormous graph.
    private const int MaxScriptOrderCombinations = 100_000;

    // Cycle diagnostics name at most this many edges.
    private const int MaxCycleDiagnosticEdges = 20;

    /// <summary>A <c>coder_script</c> by where it runs: the address of its agent or devcontainer, "" when it joined none.</summary>
    private sealed record OrderableScript(Script Script, string RuntimeAddress, bool RunOnStart, bool RunOnStop, string Cron)
    {
        /// <summary>The phase the script runs in; "" for a script set for both phases or neither (rejected when selected).</summary>
        public string Phase => RunOnStart == RunOnStop ? "" : RunOnStart ? PhaseStart : PhaseStop;
    }

    private enum SelectorKind
    {
        Script,
        Module,
    }

    /// <summary>One selector of a rule as written (<see cref="Raw"/>) and the script addresses it expands to.</summary>
    private sealed record ResolvedSelector(string Field, string Raw, SelectorKind Kind, IReadOnlyList<string> Addresses);

    /// <summary>One rule of one data source, with its selectors resolved and its phase decided.</summary>
    private sealed record ScriptOrderRule(
        string DataSourceAddress, int RuleIndex, string Phase, string Requires, IReadOnlyList<ResolvedSelector> Run, IReadOnlyList<ResolvedSelector> After)
    {
        public string RuntimeAddress { get; set; } = "";
    }

    private sealed record DependencyEdge(string Requires, string DataSourceAddress, int RuleIndex, string RunSelector, string AfterSelector);

    // coder_script.name, coder_script.name[0], coder_script.name["key"], data.type.name: a resource address in one module.
    [GeneratedRegex("""^(?<data>data\.)?(?<type>[A-Za-z_][A-Za-z0-9_-]*)\.(?<name>[A-Za-z_][A-Za-z0-9_-]*)(?<index>\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\])?\z""", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceSelectorRegex();

    // module.name, module.name[key], and whatever follows (another module step or a resource).
    [GeneratedRegex("""^module\.(?<name>[A-Za-z_][A-Za-z0-9_-]*)(?<index>\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\])?(?<rest>\..*)?\z""", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex ModuleSelectorRegex();

    private void ApplyScriptOrder()
    {
        // Like the reference: every rule is resolved and checked on its own first, then each rule's scripts must
        // share one runtime, then the rules become graphs; nothing is attached unless all of it succeeds.
        var rules = new List<ScriptOrderRule>();
        foreach (var dataSource in OfType("coder_script_order").Where(resource => resource.IsData))
        {
            var blocks = dataSource.Attributes.Blocks("rule", ScriptOrderAttributes);
            for (var index = 0; index < blocks.Count; index++)
            {
                if (PrepareRule(dataSource, index, blocks[index]) is { } rule)
                {
                    rules.Add(rule);
                }
            }
        }

        if (rules.Count == 0)
        {
            return;
        }

        foreach (var rule in rules)
        {
            try
            {
                rule.RuntimeAddress = SharedRuntime(rule);
                RejectSelfDependency(rule);
            }
            catch (StateConversionException exception)
            {
                throw new StateConversionException($"resolve script order: {exception.Message}", exception);
            }
        }

        Dictionary<(string Runtime, string Phase), SortedDictionary<string, SortedDictionary<string, DependencyEdge>>> graphs;
        try
        {
            graphs = BuildScriptOrderGraphs(rules);
        }
        catch (StateConversionException exception)
        {
            throw new StateConversionException($"build script order graphs: {exception.Message}", exception);
        }

        foreach (var graph in graphs.Values)
        {
            foreach (var (dependent, prerequisites) in graph)
            {
                var script = _scriptsByAddress[dependent].Script;
                foreach (var (prerequisite, edge) in prerequisites)
                {
                    script.Dependencies.Add(new ScriptDependency
                    {
                        PrerequisiteResourceAddress = prerequisite,
                        Requirement = edge.Requires == RequiresCompletion
                            ? ScriptDependencyRequirement.Completion
                            : ScriptDependencyRequirement.Success,
                    });
                }

                // The wire order is by prerequisite address, whatever the order the rules were declared in.
                var sorted = script.Dependencies.OrderBy(dependency => dependency.PrerequisiteResourceAddress, StringComparer.Ordinal).ToList();
                script.Dependencies.Clear();
                script.Dependencies.Add(sorted);
            }
        }
    }

    private static StateConversionException RuleError(string dataSourceAddress, int ruleIndex, string message) =>
        new($"script order data source {GoText.Quote(dataSourceAddress)} rule {ruleIndex.ToString(CultureInfo.InvariantCulture)}: {message}");

    /// <summary>Resolves a rule's selectors and decides its phase; null when one side selects no script (a no-op rule).</summary>
    private ScriptOrderRule? PrepareRule(TerraformResource dataSource, int index, ResourceAttributes block)
    {
        var address = dataSource.Address;
        var requires = block.String("requires", ScriptOrderAttributes) is { Length: > 0 } given ? given : RequiresSuccess;
        if (requires is not (RequiresSuccess or RequiresCompletion))
        {
            throw RuleError(address, index, $"requires must be {GoText.Quote(RequiresSuccess)} or {GoText.Quote(RequiresCompletion)}, got {GoText.Quote(requires)}");
        }

        var declaredPhase = block.String("phase", ScriptOrderAttributes);
        if (declaredPhase is not ("" or PhaseStart or PhaseStop))
        {
            throw RuleError(address, index, $"phase must be {GoText.Quote(PhaseStart)} or {GoText.Quote(PhaseStop)}, got {GoText.Quote(declaredPhase)}");
        }

        var modulePrefix = TerraformAddress.ModulePath(address) is { Length: > 0 } modulePath ? modulePath + "." : "";
        var run = ResolveSelectors(address, index, "run", block.StringList("run", ScriptOrderAttributes), modulePrefix);
        var after = ResolveSelectors(address, index, "after", block.StringList("after", ScriptOrderAttributes), modulePrefix);

        foreach (var selector in run.Concat(after))
        {
            foreach (var scriptAddress in selector.Addresses)
            {
                var script = _scriptsByAddress[scriptAddress];
                if (script.RunOnStart && script.RunOnStop)
                {
                    throw RuleError(address, index, $"{selector.Field} selector {GoText.Quote(selector.Raw)} expanded to {QuoteList(selector.Addresses)}, but script {GoText.Quote(scriptAddress)} has both run_on_start and run_on_stop enabled");
                }

                if (!script.RunOnStart && !script.RunOnStop)
                {
                    var reason = script.Cron.Length > 0
                        ? "is cron-only; script ordering requires run_on_start or run_on_stop"
                        : "has neither run_on_start nor run_on_stop enabled";
                    throw RuleError(address, index, $"{selector.Field} selector {GoText.Quote(selector.Raw)} expanded to {QuoteList(selector.Addresses)}, but script {GoText.Quote(scriptAddress)} {reason}");
                }
            }
        }

        var phase = declaredPhase.Length > 0 ? declaredPhase : InferPhase(address, index, run, after);
        foreach (var selector in run.Concat(after).Where(selector => selector.Kind == SelectorKind.Script))
        {
            foreach (var scriptAddress in selector.Addresses)
            {
                var actual = _scriptsByAddress[scriptAddress].Phase;
                if (actual != phase)
                {
                    throw RuleError(address, index, $"{selector.Field} selector {GoText.Quote(selector.Raw)} selects {actual} script {GoText.Quote(scriptAddress)}, but the rule phase is {GoText.Quote(phase)}");
                }
            }
        }

        // A module selector keeps only its scripts of the rule's phase (the reference also logs a warning when an
        // inferred phase dropped some; this converter has no warning channel).
        run = FilterModuleSelectors(run, phase);
        after = FilterModuleSelectors(after, phase);
        if (!run.Any(selector => selector.Addresses.Count > 0) || !after.Any(selector => selector.Addresses.Count > 0))
        {
            return null;
        }

        return new ScriptOrderRule(address, index, phase, requires, run, after);
    }

    private List<ResolvedSelector> ResolveSelectors(string dataSourceAddress, int index, string field, IReadOnlyList<string> rawSelectors, string modulePrefix)
    {
        if (rawSelectors.Count == 0)
        {
            throw RuleError(dataSourceAddress, index, $"{field} must contain at least one selector");
        }

        var selectors = new List<ResolvedSelector>(rawSelectors.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in rawSelectors)
        {
            if (!seen.Add(raw))
            {
                continue;
            }

            var (kind, name, indexed) = ParseSelector(dataSourceAddress, index, field, raw);
            var addresses = new SortedSet<string>(StringComparer.Ordinal);
            if (kind == SelectorKind.Script)
            {
                // An unindexed selector takes every count/for_each instance; an indexed one only its own.
                var exact = modulePrefix + raw;
                var unindexed = modulePrefix + "coder_script." + name;
                foreach (var scriptAddress in _scriptsByAddress.Keys)
                {
                    if (indexed ? scriptAddress == exact : scriptAddress == unindexed || scriptAddress.StartsWith(unindexed + "[", StringComparison.Ordinal))
                    {
                        addresses.Add(scriptAddress);
                    }
                }

                if (addresses.Count == 0)
                {
                    if (indexed)
                    {
                        throw RuleError(dataSourceAddress, index, $"{field} selector {GoText.Quote(raw)} expanded to no coder_script resources");
                    }

                    // A declared resource with no instances (count = 0) is allowed. The reference asks the plan's
                    // configuration; the graph has a node for every declared resource, so it answers the same.
                    if (_graph.FindByAddress(unindexed) is null)
                    {
                        throw RuleError(dataSourceAddress, index, $"{field} selector {GoText.Quote(raw)} does not name a declared coder_script resource");
                    }
                }
            }
            else
            {
                // Every instance of the child module call, and every module nested in it.
                var call = modulePrefix + "module." + name;
                foreach (var scriptAddress in _scriptsByAddress.Keys)
                {
                    if (scriptAddress.StartsWith(call + ".", StringComparison.Ordinal) || scriptAddress.StartsWith(call + "[", StringComparison.Ordinal))
                    {
                        addresses.Add(scriptAddress);
                    }
                }

                if (addresses.Count == 0 && !_graph.Nodes.Any(node => node.Address is { } nodeAddress
                    && (nodeAddress == call || nodeAddress.StartsWith(call + ".", StringComparison.Ordinal))))
                {
                    throw RuleError(dataSourceAddress, index, $"{field} selector {GoText.Quote(raw)} does not name a declared child module call");
                }
            }

            selectors.Add(new ResolvedSelector(field, raw, kind, [.. addresses]));
        }

        return selectors;
    }

    /// <summary>
    /// Selectors reach scripts in the declaring module (<c>coder_script.x</c>, <c>coder_script.x[0]</c>,
    /// <c>coder_script.x["k"]</c>) or a whole direct child module call (<c>module.m</c>), as in the reference.
    /// </summary>
    private static (SelectorKind Kind, string Name, bool Indexed) ParseSelector(string dataSourceAddress, int index, string field, string raw)
    {
        StateConversionException Invalid(string reason) =>
            RuleError(dataSourceAddress, index, $"invalid {field} selector {GoText.Quote(raw)}: {reason}");

        if (ModuleSelectorRegex().Match(raw) is { Success: true } module)
        {
            if (module.Groups["rest"].Success)
            {
                throw Invalid($"script order selector {GoText.Quote(raw)} must reference a coder_script in the declaring module or an entire direct child module call");
            }

            if (module.Groups["index"].Success)
            {
                throw Invalid($"module selector {GoText.Quote(raw)} must select all module instances");
            }

            return (SelectorKind.Module, module.Groups["name"].Value, false);
        }

        if (ResourceSelectorRegex().Match(raw) is not { Success: true } resource)
        {
            throw Invalid($"parse script order selector {GoText.Quote(raw)}: not a Terraform resource or module address");
        }

        if (resource.Groups["data"].Success || resource.Groups["type"].Value != "coder_script")
        {
            throw Invalid($"script order selector {GoText.Quote(raw)} must select a coder_script or module");
        }

        return (SelectorKind.Script, resource.Groups["name"].Value, resource.Groups["index"].Success);
    }

    /// <summary>
    /// The phase of a rule that does not declare one: that of its <c>coder_script</c> selectors, else that of its
    /// module selectors; "" when every selector picked nothing.
    /// </summary>
    private string InferPhase(string dataSourceAddress, int index, List<ResolvedSelector> run, List<ResolvedSelector> after)
    {
        foreach (var kind in new[] { SelectorKind.Script, SelectorKind.Module })
        {
            // The first selector and script seen for each phase, phases in order ("start" < "stop").
            var observed = new SortedDictionary<string, (ResolvedSelector Selector, string Address)>(StringComparer.Ordinal);
            foreach (var selector in run.Concat(after).Where(selector => selector.Kind == kind))
            {
                foreach (var scriptAddress in selector.Addresses)
                {
                    observed.TryAdd(_scriptsByAddress[scriptAddress].Phase, (selector, scriptAddress));
                }
            }

            if (observed.Count > 1)
            {
                var ((one, oneAddress), (two, twoAddress)) = (observed.Values.First(), observed.Values.Skip(1).First());
                var (onePhase, twoPhase) = (observed.Keys.First(), observed.Keys.Skip(1).First());
                var tail = kind == SelectorKind.Script
                    ? "coder_script resource selectors cannot mix start and stop scripts"
                    : $"phase cannot be inferred from module selectors that expand to both start and stop scripts; set phase to {GoText.Quote(PhaseStart)} or {GoText.Quote(PhaseStop)}";
                throw RuleError(dataSourceAddress, index,
                    $"{one.Field} selector {GoText.Quote(one.Raw)} selects {onePhase} script {GoText.Quote(oneAddress)}, but {two.Field} selector {GoText.Quote(two.Raw)} selects {twoPhase} script {GoText.Quote(twoAddress)}; {tail}");
            }

            if (observed.Count == 1)
            {
                return observed.Keys.First();
            }
        }

        return "";
    }

    private List<ResolvedSelector> FilterModuleSelectors(List<ResolvedSelector> selectors, string phase) =>
        [.. selectors.Select(selector => selector.Kind != SelectorKind.Module || phase.Length == 0
            ? selector
            : selector with { Addresses = [.. selector.Addresses.Where(scriptAddress => _scriptsByAddress[scriptAddress].Phase == phase)] })];

    /// <summary>
    /// The one agent or devcontainer sub-agent that runs every script of the rule: scripts are ordered only where
    /// they run (the reference's error for ordering across agents).
    /// </summary>
    private string SharedRuntime(ScriptOrderRule rule)
    {
        var addresses = rule.Run.Concat(rule.After).SelectMany(selector => selector.Addresses).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var first = addresses[0];
        var firstRuntime = _scriptsByAddress[first].RuntimeAddress;
        foreach (var scriptAddress in addresses)
        {
            var runtime = _scriptsByAddress[scriptAddress].RuntimeAddress;
            if (runtime.Length == 0)
            {
                var selector = SelectorOf(rule, scriptAddress);
                throw RuleError(rule.DataSourceAddress, rule.RuleIndex,
                    $"{selector.Field} selector {GoText.Quote(selector.Raw)} selects script {GoText.Quote(scriptAddress)}, but it could not be associated with an agent or devcontainer subagent");
            }

            if (runtime != firstRuntime)
            {
                throw RuleError(rule.DataSourceAddress, rule.RuleIndex,
                    $"selector {GoText.Quote(SelectorOf(rule, first).Raw)} expands to script {GoText.Quote(first)} executed by {GoText.Quote(firstRuntime)}, but "
                    + $"selector {GoText.Quote(SelectorOf(rule, scriptAddress).Raw)} expands to script {GoText.Quote(scriptAddress)} executed by {GoText.Quote(runtime)}; "
                    + "scripts can be ordered only within the same agent or devcontainer subagent");
            }
        }

        return firstRuntime;
    }

    private static void RejectSelfDependency(ScriptOrderRule rule)
    {
        var afterSelectors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var selector in rule.After)
        {
            foreach (var scriptAddress in selector.Addresses)
            {
                afterSelectors.TryAdd(scriptAddress, selector.Raw);
            }
        }

        foreach (var selector in rule.Run)
        {
            foreach (var scriptAddress in selector.Addresses)
            {
                if (afterSelectors.TryGetValue(scriptAddress, out var afterSelector))
                {
                    throw RuleError(rule.DataSourceAddress, rule.RuleIndex,
                        $"run selector {GoText.Quote(selector.Raw)} and after selector {GoText.Quote(afterSelector)} both select script {GoText.Quote(scriptAddress)}; a script cannot depend on itself");
                }
            }
        }
    }

    private static ResolvedSelector SelectorOf(ScriptOrderRule rule, string scriptAddress) =>
        rule.Run.Concat(rule.After).First(selector => selector.Addresses.Contains(scriptAddress, StringComparer.Ordinal));

    /// <summary>
    /// One graph per runtime and phase, dependent → prerequisite → edge: every run script depends on every after
    /// script of its rule. The same edge twice with different <c>requires</c> and any cycle are errors.
    /// </summary>
    private static Dictionary<(string Runtime, string Phase), SortedDictionary<string, SortedDictionary<string, DependencyEdge>>> BuildScriptOrderGraphs(List<ScriptOrderRule> rules)
    {
        var graphs = new Dictionary<(string, string), SortedDictionary<string, SortedDictionary<string, DependencyEdge>>>();
        var used = 0;
        foreach (var rule in rules)
        {
            var runSelections = FirstSelectorPerAddress(rule.Run);
            var afterSelections = FirstSelectorPerAddress(rule.After);
            if (afterSelections.Count > 0 && runSelections.Count > MaxScriptOrderCombinations / afterSelections.Count)
            {
                throw RuleError(rule.DataSourceAddress, rule.RuleIndex, string.Create(CultureInfo.InvariantCulture,
                    $"run selectors resolve to {runSelections.Count} scripts and after selectors resolve to {afterSelections.Count} scripts; the rule creates one dependency for each run/after script combination, exceeding the overall limit of {MaxScriptOrderCombinations} combinations across all script ordering rules"));
            }

            var combinations = runSelections.Count * afterSelections.Count;
            if (combinations > MaxScriptOrderCombinations - used)
            {
                throw RuleError(rule.DataSourceAddress, rule.RuleIndex, string.Create(CultureInfo.InvariantCulture,
                    $"script ordering rules are limited to {MaxScriptOrderCombinations} run/after script combinations in total; {used} from earlier rules together with {combinations} from this rule exceed the limit"));
            }

            used += combinations;
            if (!graphs.TryGetValue((rule.RuntimeAddress, rule.Phase), out var graph))
            {
                graph = new SortedDictionary<string, SortedDictionary<string, DependencyEdge>>(StringComparer.Ordinal);
                graphs.Add((rule.RuntimeAddress, rule.Phase), graph);
            }

            foreach (var (runAddress, runSelector) in runSelections)
            {
                if (!graph.TryGetValue(runAddress, out var prerequisites))
                {
                    prerequisites = new SortedDictionary<string, DependencyEdge>(StringComparer.Ordinal);
                    graph.Add(runAddress, prerequisites);
                }

                foreach (var (afterAddress, afterSelector) in afterSelections)
                {
                    if (prerequisites.TryGetValue(afterAddress, out var existing))
                    {
                        if (existing.Requires != rule.Requires)
                        {
                            throw RuleError(rule.DataSourceAddress, rule.RuleIndex,
                                $"run selector {GoText.Quote(runSelector)} and after selector {GoText.Quote(afterSelector)} declare script {GoText.Quote(runAddress)} after {GoText.Quote(afterAddress)} with requires {GoText.Quote(rule.Requires)}, "
                                + $"conflicting with requires {GoText.Quote(existing.Requires)} from data source {GoText.Quote(existing.DataSourceAddress)} rule {existing.RuleIndex.ToString(CultureInfo.InvariantCulture)}");
                        }

                        continue;
                    }

                    prerequisites.Add(afterAddress, new DependencyEdge(rule.Requires, rule.DataSourceAddress, rule.RuleIndex, runSelector, afterSelector));
                }
            }
        }

        foreach (var key in graphs.Keys.OrderBy(key => key.Item1, StringComparer.Ordinal).ThenBy(key => key.Item2, StringComparer.Ordinal))
        {
            if (FindCycle(graphs[key]) is { } cycle)
            {
                throw new StateConversionException(CycleMessage(cycle, graphs[key]));
            }
        }

        return graphs;
    }

    /// <summary>Each address a side of a rule selects, with the first selector that selected it.</summary>
    private static List<(string Address, string Selector)> FirstSelectorPerAddress(IReadOnlyList<ResolvedSelector> selectors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(string, string)>();
        foreach (var selector in selectors)
        {
            foreach (var scriptAddress in selector.Addresses.Where(seen.Add))
            {
                result.Add((scriptAddress, selector.Raw));
            }
        }

        return result;
    }

    /// <summary>
    /// The addresses along one cycle (dependent → prerequisite, first address repeated at the end), found by a
    /// depth-first walk from the sorted roots with an explicit stack, so the same graph always names the same cycle.
    /// </summary>
    private static List<string>? FindCycle(SortedDictionary<string, SortedDictionary<string, DependencyEdge>> graph)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var onStack = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var root in graph.Keys)
        {
            if (visited.Contains(root))
            {
                continue;
            }

            var stack = new List<(string Address, List<string> Prerequisites, int Next)> { (root, Prerequisites(graph, root), 0) };
            onStack[root] = 0;
            visited.Add(root);
            while (stack.Count > 0)
            {
                var (address, prerequisites, next) = stack[^1];
                if (next == prerequisites.Count)
                {
                    onStack.Remove(address);
                    stack.RemoveAt(stack.Count - 1);
                    continue;
                }

                stack[^1] = (address, prerequisites, next + 1);
                var prerequisite = prerequisites[next];
                if (onStack.TryGetValue(prerequisite, out var position))
                {
                    var cycle = stack.Skip(position).Select(frame => frame.Address).ToList();
                    cycle.Add(prerequisite);
                    return cycle;
                }

                if (visited.Add(prerequisite))
                {
                    onStack[prerequisite] = stack.Count;
                    stack.Add((prerequisite, Prerequisites(graph, prerequisite), 0));
                }
            }
        }

        return null;
    }

    private static List<string> Prerequisites(SortedDictionary<string, SortedDictionary<string, DependencyEdge>> graph, string address) =>
        graph.TryGetValue(address, out var prerequisites) ? [.. prerequisites.Keys] : [];

    /// <summary>The reference's cycle message: the path in execution order, then each edge with the rule that declared it.</summary>
    private static string CycleMessage(List<string> cycle, SortedDictionary<string, SortedDictionary<string, DependencyEdge>> graph)
    {
        // cycle[i] depends on cycle[i + 1]; execution order is the reverse.
        var edges = new List<(string Dependent, string Prerequisite, DependencyEdge Edge)>();
        for (var i = 0; i < cycle.Count - 1; i++)
        {
            edges.Add((cycle[i], cycle[i + 1], graph[cycle[i]][cycle[i + 1]]));
        }

        var rendered = Math.Min(edges.Count, MaxCycleDiagnosticEdges);
        var path = new List<string> { edges[0].Dependent };
        var details = new List<string>();
        foreach (var (dependent, prerequisite, edge) in Enumerable.Reverse(edges).Take(rendered))
        {
            path.Add(dependent);
            details.Add($"{GoText.Quote(dependent)} after {GoText.Quote(prerequisite)} from run selector {GoText.Quote(edge.RunSelector)} and after selector {GoText.Quote(edge.AfterSelector)} "
                + $"(data source {GoText.Quote(edge.DataSourceAddress)} rule {edge.RuleIndex.ToString(CultureInfo.InvariantCulture)})");
        }

        var omitted = edges.Count - rendered;
        if (omitted > 0)
        {
            path.Add("…");
            path.Add(path[0]);
        }

        var message = new StringBuilder("script order dependency cycle: ")
            .Append(string.Join(" -> ", path))
            .Append("; cycle edges: ")
            .Append(string.Join("; ", details));
        if (omitted > 0)
        {
            message.Append(CultureInfo.InvariantCulture, $"; {omitted} cycle edges omitted");
        }

        return message.ToString();
    }

    /// <summary>Go's <c>%q</c> of a string slice: <c>["a" "b"]</c>.</summary>
    private static string QuoteList(IEnumerable<string> items) => "[" + string.Join(' ', items.Select(GoText.Quote)) + "]";
}
