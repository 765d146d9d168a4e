using System.Buffers;
using System.Text;

namespace Provisioning.Terraform.State;

/// <summary>
/// The dependency graph printed by <c>terraform graph</c> (GraphViz DOT). An edge <c>a -> b</c> means
/// "a depends on b". Both output styles are read: the older one (<c>"[root] null_resource.a (expand)"</c>
/// node ids with full-address labels, still printed by <c>-type=plan</c>) and the newer resource-only one
/// (node ids are addresses, module resources inside <c>cluster_module.x</c> subgraphs).
/// </summary>
internal sealed class TerraformGraph
{
    private readonly List<TerraformGraphNode> _nodes = [];
    private readonly Dictionary<string, TerraformGraphNode> _nodesByName = new(StringComparer.Ordinal);
    private readonly Dictionary<TerraformGraphNode, List<TerraformGraphNode>> _dependencies = [];
    private readonly Dictionary<TerraformGraphNode, List<TerraformGraphNode>> _dependents = [];
    private readonly HashSet<(TerraformGraphNode From, TerraformGraphNode To)> _edges = [];
    private readonly Dictionary<(TerraformGraphNode Start, bool Upwards, Func<TerraformGraphNode, bool> Predicate), List<TerraformGraphNode>> _nearestCache = [];
    private Dictionary<string, TerraformGraphNode>? _nodesByAddress;
    private HashSet<(string From, string To)>? _rootEdges;

    private TerraformGraph()
    {
    }

    public IReadOnlyList<TerraformGraphNode> Nodes => _nodes;

    public int EdgeCount => _edges.Count;

    /// <summary>Parses DOT text. Empty text is an empty graph.</summary>
    /// <exception cref="FormatException">The text is not a DOT graph.</exception>
    public static TerraformGraph Parse(string dot)
    {
        ArgumentNullException.ThrowIfNull(dot);
        var graph = new TerraformGraph();
        if (!string.IsNullOrWhiteSpace(dot))
        {
            new DotParser(dot, graph).ParseGraph();
        }

        return graph;
    }

    public TerraformGraphNode? FindByName(string name) => _nodesByName.GetValueOrDefault(name);

    /// <summary>The first declared node whose <see cref="TerraformGraphNode.Address"/> is <paramref name="address"/>.</summary>
    public TerraformGraphNode? FindByAddress(string address)
    {
        if (_nodesByAddress is null)
        {
            _nodesByAddress = new Dictionary<string, TerraformGraphNode>(StringComparer.Ordinal);
            foreach (var node in _nodes)
            {
                if (node.Address is { } nodeAddress)
                {
                    _nodesByAddress.TryAdd(nodeAddress, node);
                }
            }
        }

        return _nodesByAddress.GetValueOrDefault(address);
    }

    /// <summary>The nodes <paramref name="node"/> depends on (targets of its edges), in edge order.</summary>
    public IReadOnlyList<TerraformGraphNode> DependenciesOf(TerraformGraphNode node) =>
        _dependencies.TryGetValue(node, out var list) ? list : [];

    /// <summary>The nodes that depend on <paramref name="node"/> (sources of edges into it), in edge order.</summary>
    public IReadOnlyList<TerraformGraphNode> DependentsOf(TerraformGraphNode node) =>
        _dependents.TryGetValue(node, out var list) ? list : [];

    /// <summary>
    /// Whether the node whose id spells <paramref name="fromAddress"/> has a direct edge to the node whose id
    /// spells <paramref name="toAddress"/> (see <see cref="TerraformGraphNode.IdAddress"/>).
    /// </summary>
    public bool HasDirectEdge(string fromAddress, string toAddress)
    {
        if (_rootEdges is null)
        {
            _rootEdges = [];
            foreach (var (from, to) in _edges)
            {
                if (from.IdAddress is { } fromRoot && to.IdAddress is { } toRoot)
                {
                    _rootEdges.Add((fromRoot, toRoot));
                }
            }
        }

        return _rootEdges.Contains((fromAddress, toAddress));
    }

    /// <summary>
    /// The nodes matching <paramref name="predicate"/> that are fewest edges away from <paramref name="start"/>
    /// (all of them when several are equally near), walking towards dependents (<paramref name="upwards"/>)
    /// or towards dependencies; empty when none is reachable. The reference system enumerates every path,
    /// which is exponential in graphs with many converging paths; a breadth-first walk visits each node at
    /// most once, stops at the first distance that has a match, and its result is cached per start.
    /// </summary>
    public IReadOnlyList<TerraformGraphNode> Nearest(TerraformGraphNode start, bool upwards, Func<TerraformGraphNode, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        if (_nearestCache.TryGetValue((start, upwards, predicate), out var cached))
        {
            return cached;
        }

        var adjacency = upwards ? _dependents : _dependencies;
        var visited = new HashSet<TerraformGraphNode> { start };
        List<TerraformGraphNode> level = [start];
        List<TerraformGraphNode> matches = [];
        while (level.Count > 0 && matches.Count == 0)
        {
            var next = new List<TerraformGraphNode>();
            foreach (var node in level)
            {
                if (!adjacency.TryGetValue(node, out var neighbours))
                {
                    continue;
                }

                foreach (var neighbour in neighbours)
                {
                    if (visited.Add(neighbour))
                    {
                        next.Add(neighbour);
                    }
                }
            }

            matches = next.Where(predicate).ToList();
            level = next;
        }

        _nearestCache[(start, upwards, predicate)] = matches;
        return matches;
    }

    // Looked up by the id's characters in the DOT text: a node id is read into a string once, not at every edge.
    private TerraformGraphNode GetOrAddNode(ReadOnlySpan<char> name)
    {
        var byName = _nodesByName.GetAlternateLookup<ReadOnlySpan<char>>();
        if (byName.TryGetValue(name, out var existing))
        {
            return existing;
        }

        var node = new TerraformGraphNode(name.ToString());
        _nodes.Add(node);
        _nodesByName.Add(node.Name, node);
        return node;
    }

    private TerraformGraphNode DeclareNode(ReadOnlySpan<char> name, string? label)
    {
        var node = GetOrAddNode(name);
        if (label is not null)
        {
            node.Label = label;
        }

        return node;
    }

    private void AddEdge(TerraformGraphNode from, TerraformGraphNode to)
    {
        if (!_edges.Add((from, to)))
        {
            return;
        }

        if (!_dependencies.TryGetValue(from, out var dependencies))
        {
            dependencies = [];
            _dependencies.Add(from, dependencies);
        }

        dependencies.Add(to);
        if (!_dependents.TryGetValue(to, out var dependents))
        {
            dependents = [];
            _dependents.Add(to, dependents);
        }

        dependents.Add(from);
    }

    /// <summary>
    /// A recursive-descent reader for the DOT language (graphviz.org/doc/info/lang.html): statements,
    /// attribute lists, subgraphs, edge chains, quoted/HTML/numeral ids, "+" concatenation and comments.
    /// Only what a dependency graph needs is kept: node ids, their labels and edges.
    /// </summary>
    private sealed class DotParser(string text, TerraformGraph graph)
    {
        private static readonly SearchValues<char> QuoteOrBackslash = SearchValues.Create("\"\\");

        // One set per open subgraph: the nodes it mentions, in order, for edges whose endpoint is a subgraph. The
        // hash set keeps Use linear: Terraform puts every node of a plan graph in the "root" subgraph, and a list
        // lookup per node made 10,000-resource graphs take a second (bench/Provisioning.Bench.Micro).
        private readonly Stack<(List<TerraformGraphNode> Ordered, HashSet<TerraformGraphNode> Seen)> _subgraphMembers = new();
        private int _position;

        private TerraformGraphNode Use(TerraformGraphNode node)
        {
            foreach (var (ordered, seen) in _subgraphMembers)
            {
                if (seen.Add(node))
                {
                    ordered.Add(node);
                }
            }

            return node;
        }

        public void ParseGraph()
        {
            SkipTrivia();
            var keyword = ReadKeywordOrId();
            if (string.Equals(keyword, "strict", StringComparison.OrdinalIgnoreCase))
            {
                keyword = ReadKeywordOrId();
            }

            if (!string.Equals(keyword, "digraph", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(keyword, "graph", StringComparison.OrdinalIgnoreCase))
            {
                throw Error($"expected 'digraph' or 'graph', found '{keyword}'");
            }

            SkipTrivia();
            if (Peek() != '{')
            {
                ReadId();
                SkipTrivia();
            }

            ParseBlock();
            SkipTrivia();
            if (_position < text.Length)
            {
                throw Error("unexpected text after the closing brace");
            }
        }

        private void ParseBlock()
        {
            Expect('{');
            while (true)
            {
                SkipTrivia();
                var next = Peek();
                if (next == '}')
                {
                    _position++;
                    return;
                }

                if (next is ';' or ',')
                {
                    _position++;
                    continue;
                }

                if (next == '\0')
                {
                    throw Error("missing '}'");
                }

                ParseStatement();
            }
        }

        private void ParseStatement()
        {
            if (Peek() == '{' || PeekKeyword("subgraph"))
            {
                var members = ParseSubgraph();
                ParseEdgeChainFrom(members);
                return;
            }

            if (PeekKeyword("graph") || PeekKeyword("node") || PeekKeyword("edge"))
            {
                ReadKeywordOrId();
                SkipTrivia();
                ParseAttributeLists();
                return;
            }

            var id = ReadIdSpan();
            SkipTrivia();
            if (Peek() == '=')
            {
                _position++;
                SkipTrivia();
                ReadIdSpan();
                return;
            }

            SkipPort();
            SkipTrivia();
            if (PeekEdgeOperator())
            {
                ParseEdgeChainFrom([Use(graph.GetOrAddNode(id))]);
                return;
            }

            Use(graph.DeclareNode(id, ParseAttributeLists()));
        }

        /// <summary>Reads a subgraph and returns the nodes it declared or used (edge endpoints may be subgraphs).</summary>
        private List<TerraformGraphNode> ParseSubgraph()
        {
            if (PeekKeyword("subgraph"))
            {
                ReadKeywordOrId();
                SkipTrivia();
                if (Peek() != '{')
                {
                    ReadId();
                    SkipTrivia();
                }
            }

            _subgraphMembers.Push(([], []));
            ParseBlock();
            return _subgraphMembers.Pop().Ordered;
        }

        private void ParseEdgeChainFrom(List<TerraformGraphNode> left)
        {
            SkipTrivia();
            if (!PeekEdgeOperator())
            {
                return;
            }

            var chain = new List<List<TerraformGraphNode>> { left };
            while (PeekEdgeOperator())
            {
                _position += 2;
                SkipTrivia();
                if (Peek() == '{' || PeekKeyword("subgraph"))
                {
                    chain.Add(ParseSubgraph());
                }
                else
                {
                    var id = ReadIdSpan();
                    SkipPort();
                    chain.Add([Use(graph.GetOrAddNode(id))]);
                }

                SkipTrivia();
            }

            ParseAttributeLists();
            for (var i = 0; i + 1 < chain.Count; i++)
            {
                foreach (var from in chain[i])
                {
                    foreach (var to in chain[i + 1])
                    {
                        graph.AddEdge(from, to);
                    }
                }
            }
        }

        /// <summary>Reads attribute lists and returns the <c>label</c> attribute, the only one a dependency graph needs (null when absent).</summary>
        private string? ParseAttributeLists()
        {
            string? label = null;
            SkipTrivia();
            while (Peek() == '[')
            {
                _position++;
                while (true)
                {
                    SkipTrivia();
                    var next = Peek();
                    if (next == ']')
                    {
                        _position++;
                        break;
                    }

                    if (next is ',' or ';')
                    {
                        _position++;
                        continue;
                    }

                    if (next == '\0')
                    {
                        throw Error("missing ']'");
                    }

                    var isLabel = ReadIdSpan().SequenceEqual("label");
                    SkipTrivia();
                    Expect('=');
                    SkipTrivia();
                    if (isLabel)
                    {
                        label = ReadId();
                    }
                    else
                    {
                        ReadIdSpan();
                    }
                }

                SkipTrivia();
            }

            return label;
        }

        private void SkipPort()
        {
            SkipTrivia();
            while (Peek() == ':')
            {
                _position++;
                SkipTrivia();
                ReadIdSpan();
                SkipTrivia();
            }
        }

        private bool PeekEdgeOperator() =>
            _position + 1 < text.Length && text[_position] == '-' && (text[_position + 1] == '>' || text[_position + 1] == '-');

        private bool PeekKeyword(string keyword)
        {
            if (string.Compare(text, _position, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) != 0)
            {
                return false;
            }

            var end = _position + keyword.Length;
            return end >= text.Length || !IsIdCharacter(text[end]);
        }

        private string ReadKeywordOrId()
        {
            SkipTrivia();
            return ReadId();
        }

        /// <summary>
        /// <see cref="ReadId"/> without a string where the id is a plain slice of the text (a name, a numeral, a quoted
        /// string without escapes or "+"): the characters of node ids and attributes that are only compared or skipped.
        /// </summary>
        private ReadOnlySpan<char> ReadIdSpan()
        {
            var next = Peek();
            if (next == '"')
            {
                var start = _position + 1;
                var close = text.AsSpan(start).IndexOfAny(QuoteOrBackslash) is var offset and >= 0 ? start + offset : -1;
                if (close >= 0 && text[close] == '"')
                {
                    var after = close + 1;
                    while (after < text.Length && char.IsWhiteSpace(text[after]))
                    {
                        after++;
                    }

                    if (after >= text.Length || (text[after] != '+' && text[after] != '/' && text[after] != '#'))
                    {
                        _position = close + 1;
                        return text.AsSpan(start, close - start);
                    }
                }

                return ReadId();
            }

            return next == '<' ? ReadHtml().AsSpan() : ReadPlain();
        }

        /// <summary>Reads an id: a quoted string (with "+" concatenation), an HTML string, a numeral or a name.</summary>
        private string ReadId()
        {
            var next = Peek();
            if (next == '"')
            {
                var first = ReadQuoted();
                StringBuilder? builder = null;
                while (true)
                {
                    var save = _position;
                    SkipTrivia();
                    if (Peek() != '+')
                    {
                        _position = save;
                        break;
                    }

                    _position++;
                    SkipTrivia();
                    if (Peek() != '"')
                    {
                        throw Error("expected a quoted string after '+'");
                    }

                    builder ??= new StringBuilder(first);
                    builder.Append(ReadQuoted());
                }

                return builder?.ToString() ?? first;
            }

            return next == '<' ? ReadHtml() : ReadPlain().ToString();
        }

        /// <summary>A numeral or a name.</summary>
        private ReadOnlySpan<char> ReadPlain()
        {
            var next = Peek();
            var start = _position;
            if (next is '-' or '.' || char.IsAsciiDigit(next))
            {
                _position++;
                while (_position < text.Length && (char.IsAsciiDigit(text[_position]) || text[_position] == '.'))
                {
                    _position++;
                }

                return text.AsSpan(start, _position - start);
            }

            while (_position < text.Length && IsIdCharacter(text[_position]))
            {
                _position++;
            }

            if (_position == start)
            {
                throw Error(next == '\0' ? "unexpected end of text" : $"unexpected character '{next}'");
            }

            return text.AsSpan(start, _position - start);
        }

        private string ReadQuoted()
        {
            Expect('"');

            // Most ids have no escapes: one substring, no builder (a plan graph has a few quoted strings per node).
            var start = _position;
            var close = text.AsSpan(start).IndexOfAny(QuoteOrBackslash) is var offset and >= 0 ? start + offset : -1;
            if (close >= 0 && text[close] == '"')
            {
                _position = close + 1;
                return text[start..close];
            }

            var builder = new StringBuilder();
            while (true)
            {
                if (_position >= text.Length)
                {
                    throw Error("unterminated quoted string");
                }

                var c = text[_position++];
                if (c == '"')
                {
                    return builder.ToString();
                }

                if (c == '\\' && _position < text.Length)
                {
                    var escaped = text[_position];
                    if (escaped == '"')
                    {
                        builder.Append('"');
                        _position++;
                        continue;
                    }

                    if (escaped is '\n' or '\r')
                    {
                        // A backslash-newline continues the string on the next line.
                        _position++;
                        if (escaped == '\r' && _position < text.Length && text[_position] == '\n')
                        {
                            _position++;
                        }

                        continue;
                    }
                }

                builder.Append(c);
            }
        }

        private string ReadHtml()
        {
            var start = _position;
            var depth = 0;
            while (_position < text.Length)
            {
                var c = text[_position++];
                if (c == '<')
                {
                    depth++;
                }
                else if (c == '>' && --depth == 0)
                {
                    return text[(start + 1)..(_position - 1)];
                }
            }

            throw Error("unterminated HTML string");
        }

        private void SkipTrivia()
        {
            while (_position < text.Length)
            {
                var c = text[_position];
                if (char.IsWhiteSpace(c))
                {
                    _position++;
                }
                else if (c == '/' && _position + 1 < text.Length && text[_position + 1] == '/')
                {
                    SkipLine();
                }
                else if (c == '#' && IsLineStart())
                {
                    SkipLine();
                }
                else if (c == '/' && _position + 1 < text.Length && text[_position + 1] == '*')
                {
                    var end = text.IndexOf("*/", _position + 2, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        throw Error("unterminated comment");
                    }

                    _position = end + 2;
                }
                else
                {
                    return;
                }
            }
        }

        private bool IsLineStart()
        {
            for (var i = _position - 1; i >= 0; i--)
            {
                if (text[i] == '\n')
                {
                    return true;
                }

                if (!char.IsWhiteSpace(text[i]))
                {
                    return false;
                }
            }

            return true;
        }

        private void SkipLine()
        {
            var end = text.IndexOf('\n', _position);
            _position = end < 0 ? text.Length : end + 1;
        }

        private char Peek() => _position < text.Length ? text[_position] : '\0';

        private void Expect(char expected)
        {
            if (Peek() != expected)
            {
                throw Error($"expected '{expected}'");
            }

            _position++;
        }

        private static bool IsIdCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c > '\u007f';

        private FormatException Error(string problem)
        {
            var line = 1;
            var column = 1;
            for (var i = 0; i < Math.Min(_position, text.Length); i++)
            {
                if (text[i] == '\n')
                {
                    line++;
                    column = 1;
                }
                else
                {
                    column++;
                }
            }

            return new FormatException($"line {line}, column {column}: {problem}");
        }
    }
}
