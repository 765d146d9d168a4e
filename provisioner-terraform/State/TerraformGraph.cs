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
    private readonly List<TerraformGraphNode> _nodes;

    // Node ids are slices of the DOT text (TextSlice), looked up by their characters: an id is not copied into a string
    // unless a caller asks for it.
    private readonly Dictionary<TextSlice, TerraformGraphNode> _nodesByName;
    private readonly HashSet<(TerraformGraphNode From, TerraformGraphNode To)> _edges = [];
    private readonly Dictionary<(TerraformGraphNode Start, bool Upwards, Func<TerraformGraphNode, bool> Predicate), List<TerraformGraphNode>> _nearestCache = [];
    private Dictionary<TextSlice, TerraformGraphNode>? _nodesByAddress;
    private HashSet<(string From, string To)>? _rootEdges;
    private int _walks;

    private TerraformGraph(int expectedNodes)
    {
        _nodes = new List<TerraformGraphNode>(expectedNodes);
        _nodesByName = new Dictionary<TextSlice, TerraformGraphNode>(expectedNodes, TextSlice.OrdinalComparer.Instance);
    }

    public IReadOnlyList<TerraformGraphNode> Nodes => _nodes;

    public int EdgeCount => _edges.Count;

    /// <summary>Parses DOT text. Empty text is an empty graph.</summary>
    /// <exception cref="FormatException">The text is not a DOT graph.</exception>
    public static TerraformGraph Parse(string dot)
    {
        ArgumentNullException.ThrowIfNull(dot);
        var graph = new TerraformGraph(ExpectedNodes(dot));
        if (!string.IsNullOrWhiteSpace(dot))
        {
            new DotParser(dot, graph).ParseGraph();
        }

        return graph;
    }

    /// <summary>
    /// About how many nodes the text declares: Terraform declares each node once with a label, so the maps are sized
    /// once instead of growing through a dozen copies of their arrays (large ones, for large graphs).
    /// </summary>
    private static int ExpectedNodes(string dot)
    {
        var count = 0;
        var rest = dot.AsSpan();
        for (var at = rest.IndexOf("label", StringComparison.Ordinal); at >= 0; at = rest.IndexOf("label", StringComparison.Ordinal))
        {
            count++;
            rest = rest[(at + "label".Length)..];
        }

        return count;
    }

    public TerraformGraphNode? FindByName(string name) => _nodesByName.GetValueOrDefault(new TextSlice(name));

    /// <summary>The first declared node whose <see cref="TerraformGraphNode.Address"/> is <paramref name="address"/>.</summary>
    public TerraformGraphNode? FindByAddress(string address)
    {
        if (_nodesByAddress is null)
        {
            _nodesByAddress = new Dictionary<TextSlice, TerraformGraphNode>(_nodes.Count, TextSlice.OrdinalComparer.Instance);
            foreach (var node in _nodes)
            {
                if (node.HasAddress)
                {
                    _nodesByAddress.TryAdd(node.AddressSlice, node);
                }
            }
        }

        return _nodesByAddress.GetValueOrDefault(new TextSlice(address));
    }

    /// <summary>The nodes <paramref name="node"/> depends on (targets of its edges), in edge order.</summary>
    public IReadOnlyList<TerraformGraphNode> DependenciesOf(TerraformGraphNode node) => node.Dependencies ?? [];

    /// <summary>The nodes that depend on <paramref name="node"/> (sources of edges into it), in edge order.</summary>
    public IReadOnlyList<TerraformGraphNode> DependentsOf(TerraformGraphNode node) => node.Dependents ?? [];

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

        // Visited nodes carry this walk's number instead of going into a set: one walk per agent and metadata resource.
        var walk = ++_walks;
        start.LastWalk = walk;
        List<TerraformGraphNode> level = [start];
        List<TerraformGraphNode> matches = [];
        while (level.Count > 0 && matches.Count == 0)
        {
            var next = new List<TerraformGraphNode>();
            foreach (var node in level)
            {
                if ((upwards ? node.Dependents : node.Dependencies) is not { } neighbours)
                {
                    continue;
                }

                foreach (var neighbour in neighbours)
                {
                    if (neighbour.LastWalk != walk)
                    {
                        neighbour.LastWalk = walk;
                        next.Add(neighbour);
                        if (predicate(neighbour))
                        {
                            matches.Add(neighbour);
                        }
                    }
                }
            }

            level = next;
        }

        _nearestCache[(start, upwards, predicate)] = matches;
        return matches;
    }

    private TerraformGraphNode GetOrAddNode(TextSlice name)
    {
        if (_nodesByName.TryGetValue(name, out var existing))
        {
            return existing;
        }

        var node = new TerraformGraphNode(name);
        _nodes.Add(node);
        _nodesByName.Add(name, node);
        return node;
    }

    private TerraformGraphNode DeclareNode(TextSlice name, TextSlice? label)
    {
        var node = GetOrAddNode(name);
        if (label is { } given)
        {
            node.SetLabel(given);
        }

        return node;
    }

    private void AddEdge(TerraformGraphNode from, TerraformGraphNode to)
    {
        if (!_edges.Add((from, to)))
        {
            return;
        }

        (from.Dependencies ??= []).Add(to);
        (to.Dependents ??= []).Add(from);
    }

    /// <summary>
    /// A recursive-descent reader for the DOT language (graphviz.org/doc/info/lang.html): statements,
    /// attribute lists, subgraphs, edge chains, quoted/HTML/numeral ids, "+" concatenation and comments.
    /// Only what a dependency graph needs is kept: node ids, their labels and edges.
    /// </summary>
    private sealed class DotParser(string text, TerraformGraph graph)
    {
        private static readonly SearchValues<char> QuoteOrBackslash = SearchValues.Create("\"\\");

        // Every node mentioned inside an open subgraph, in order: a subgraph is a range of it, and its members (for
        // edges whose endpoint is a subgraph, which Terraform never writes) are deduplicated only when an edge asks.
        // Terraform puts every node of a plan graph in the "root" subgraph: a set and a list per open subgraph cost a
        // hash and two copies per node for nothing, a list lookup per node made it quadratic (bench/Provisioning.Bench.Micro).
        private readonly List<TerraformGraphNode> _mentions = [];
        private int _openSubgraphs;
        private int _position;

        private TerraformGraphNode Use(TerraformGraphNode node)
        {
            if (_openSubgraphs > 0)
            {
                _mentions.Add(node);
            }

            return node;
        }

        /// <summary>The distinct nodes of a range of <see cref="_mentions"/>, in first-mention order.</summary>
        private List<TerraformGraphNode> Members((int Start, int End) range)
        {
            var seen = new HashSet<TerraformGraphNode>();
            var members = new List<TerraformGraphNode>();
            for (var i = range.Start; i < range.End; i++)
            {
                if (seen.Add(_mentions[i]))
                {
                    members.Add(_mentions[i]);
                }
            }

            return members;
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
            var first = Peek();
            if (first == '{' || (char.IsAsciiLetter(first) && PeekKeyword("subgraph")))
            {
                var members = ParseSubgraph();
                SkipTrivia();
                if (PeekEdgeOperator())
                {
                    ParseEdgeChainFrom(Members(members));
                }

                return;
            }

            // A keyword starts with a letter; Terraform's statements start with a quoted id.
            if (char.IsAsciiLetter(first) && (PeekKeyword("graph") || PeekKeyword("node") || PeekKeyword("edge")))
            {
                ReadKeywordOrId();
                SkipTrivia();
                ParseAttributeLists();
                return;
            }

            var id = ReadIdSlice();
            SkipTrivia();
            if (Peek() == '=')
            {
                _position++;
                SkipTrivia();
                ReadIdSlice();
                return;
            }

            SkipPort();
            SkipTrivia();
            if (PeekEdgeOperator())
            {
                ParseEdgeChainFrom(Use(graph.GetOrAddNode(id)));
                return;
            }

            Use(graph.DeclareNode(id, ParseAttributeLists()));
        }

        /// <summary>Reads a subgraph and returns the range of <see cref="_mentions"/> it declared or used (edge endpoints may be subgraphs).</summary>
        private (int Start, int End) ParseSubgraph()
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

            var start = _mentions.Count;
            _openSubgraphs++;
            ParseBlock();
            _openSubgraphs--;
            return (start, _mentions.Count);
        }

        /// <summary>An edge statement from one node: "a -> b" (what Terraform writes) without a list per endpoint.</summary>
        private void ParseEdgeChainFrom(TerraformGraphNode left)
        {
            SkipTrivia();
            if (!PeekEdgeOperator())
            {
                return;
            }

            var save = _position;
            _position += 2;
            SkipTrivia();
            if (Peek() != '{' && !PeekKeyword("subgraph"))
            {
                var id = ReadIdSlice();
                SkipPort();
                var right = Use(graph.GetOrAddNode(id));
                SkipTrivia();
                if (!PeekEdgeOperator())
                {
                    ParseAttributeLists();
                    graph.AddEdge(left, right);
                    return;
                }

                ParseEdgeChain([[left], [right]]);
                return;
            }

            _position = save;
            ParseEdgeChainFrom([left]);
        }

        private void ParseEdgeChainFrom(List<TerraformGraphNode> left)
        {
            SkipTrivia();
            if (!PeekEdgeOperator())
            {
                return;
            }

            ParseEdgeChain([left]);
        }

        /// <summary>The rest of an edge chain; edges are added once the whole statement is read, in chain order.</summary>
        private void ParseEdgeChain(List<List<TerraformGraphNode>> chain)
        {
            while (PeekEdgeOperator())
            {
                _position += 2;
                SkipTrivia();
                if (Peek() == '{' || PeekKeyword("subgraph"))
                {
                    chain.Add(Members(ParseSubgraph()));
                }
                else
                {
                    var id = ReadIdSlice();
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
        private TextSlice? ParseAttributeLists()
        {
            TextSlice? label = null;
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

                    var isLabel = ReadIdSlice().AsSpan().SequenceEqual("label");
                    SkipTrivia();
                    Expect('=');
                    SkipTrivia();
                    var value = ReadIdSlice();
                    if (isLabel)
                    {
                        label = value;
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
                ReadIdSlice();
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
        /// <see cref="ReadId"/> without a copy where the id is a plain slice of the text (a name, a numeral, a quoted
        /// string without escapes or "+"): node ids, labels and attributes that are only compared or skipped.
        /// </summary>
        private TextSlice ReadIdSlice()
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
                        return new TextSlice(text, start, close - start);
                    }
                }

                return new TextSlice(ReadId());
            }

            if (next == '<')
            {
                return new TextSlice(ReadHtml());
            }

            var plain = ReadPlain();
            return new TextSlice(text, plain.Start, plain.Length);
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

            if (next == '<')
            {
                return ReadHtml();
            }

            var plain = ReadPlain();
            return text.Substring(plain.Start, plain.Length);
        }

        /// <summary>A numeral or a name: where it is in the text.</summary>
        private (int Start, int Length) ReadPlain()
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

                return (start, _position - start);
            }

            while (_position < text.Length && IsIdCharacter(text[_position]))
            {
                _position++;
            }

            if (_position == start)
            {
                throw Error(next == '\0' ? "unexpected end of text" : $"unexpected character '{next}'");
            }

            return (start, _position - start);
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
