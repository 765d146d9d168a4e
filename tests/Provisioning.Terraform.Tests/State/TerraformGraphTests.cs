using System.Text;
using Provisioning.Terraform.State;

namespace Provisioning.Terraform.Tests.State;

public sealed class TerraformGraphTests
{
    // `terraform graph -type=plan` output (Terraform 1.11), the style the reference system reads.
    private const string OlderStyle = """
        digraph {
        	compound = "true"
        	newrank = "true"
        	subgraph "root" {
        		"[root] coder_agent.main (expand)" [label = "coder_agent.main", shape = "box"]
        		"[root] coder_script.root (expand)" [label = "coder_script.root", shape = "box"]
        		"[root] module.module.coder_script.clone (expand)" [label = "module.module.coder_script.clone", shape = "box"]
        		"[root] null_resource.dev (expand)" [label = "null_resource.dev", shape = "box"]
        		"[root] provider[\"registry.terraform.io/coder/coder\"]" [label = "provider[\"registry.terraform.io/coder/coder\"]", shape = "diamond"]
        		"[root] coder_agent.main (expand)" -> "[root] provider[\"registry.terraform.io/coder/coder\"]"
        		"[root] coder_script.root (expand)" -> "[root] coder_agent.main (expand)"
        		"[root] module.module.coder_script.clone (expand)" -> "[root] module.module.var.agent_id (expand)"
        		"[root] module.module.var.agent_id (expand)" -> "[root] coder_agent.main (expand)"
        		"[root] null_resource.dev (expand)" -> "[root] coder_agent.main (expand)"
        	}
        }
        """;

    // `terraform graph` output of Terraform 1.7+ (resources only; module resources in clusters with short labels).
    private const string NewerStyle = """
        digraph G {
          rankdir = "RL";
          node [shape = rect, fontname = "sans-serif"];
          "terraform_data.a" [label="terraform_data.a"];
          "terraform_data.b" [label="terraform_data.b"];
          subgraph "cluster_module.m" {
            label = "module.m"
            fontname = "sans-serif"
            "module.m.terraform_data.inner" [label="terraform_data.inner"];
          }
          "terraform_data.b" -> "module.m.terraform_data.inner";
          "module.m.terraform_data.inner" -> "terraform_data.a";
        }
        """;

    [Fact]
    public void Parse_OlderStyle_ReadsNodesLabelsAndEdges()
    {
        // Act
        var graph = TerraformGraph.Parse(OlderStyle);

        // Assert
        var agent = graph.FindByAddress("coder_agent.main");
        Assert.NotNull(agent);
        Assert.Equal("[root] coder_agent.main (expand)", agent.Name);
        Assert.Equal(["[root] coder_script.root (expand)", "[root] module.module.var.agent_id (expand)", "[root] null_resource.dev (expand)"],
            graph.DependentsOf(agent).Select(node => node.Name));
        Assert.Equal("provider[\"registry.terraform.io/coder/coder\"]", graph.DependenciesOf(agent).Single().Label);

        // A node that only appears in edges has no label and so is no resource.
        var variable = graph.FindByName("[root] module.module.var.agent_id (expand)");
        Assert.NotNull(variable);
        Assert.Null(variable.Address);
        Assert.Equal(6, graph.Nodes.Count);
        Assert.Equal(5, graph.EdgeCount);
    }

    [Fact]
    public void Parse_NewerStyle_TakesAddressesFromNodeIds()
    {
        // Act
        var graph = TerraformGraph.Parse(NewerStyle);

        // Assert: the cluster's label statement is no node, and the shortened label does not hide the address.
        Assert.Equal(["terraform_data.a", "terraform_data.b", "module.m.terraform_data.inner"], graph.Nodes.Select(node => node.Address));
        var inner = graph.FindByAddress("module.m.terraform_data.inner");
        Assert.NotNull(inner);
        Assert.Equal("terraform_data.inner", inner.Label);
        Assert.Null(graph.FindByAddress("terraform_data.inner"));
        Assert.Equal(["terraform_data.b"], graph.DependentsOf(inner).Select(node => node.Name));
    }

    [Fact]
    public void HasDirectEdge_BothStyles_MatchesAddressesSpelledByNodeIds()
    {
        // Arrange
        var older = TerraformGraph.Parse(OlderStyle);
        var newer = TerraformGraph.Parse(NewerStyle);

        // Act / Assert
        Assert.True(older.HasDirectEdge("coder_script.root", "coder_agent.main"));
        Assert.True(older.HasDirectEdge("null_resource.dev", "coder_agent.main"));
        Assert.False(older.HasDirectEdge("coder_script.clone", "coder_agent.main"));
        Assert.False(older.HasDirectEdge("coder_agent.main", "coder_script.root"));
        Assert.True(newer.HasDirectEdge("terraform_data.b", "module.m.terraform_data.inner"));
        Assert.False(newer.HasDirectEdge("terraform_data.inner", "terraform_data.a"));
    }

    [Fact]
    public void Parse_DotSyntaxVariants_ReadsChainsEscapesConcatenationAndComments()
    {
        // Arrange
        const string dot = """
            /* leading comment */
            strict digraph "g" {
              // a line comment
            # a preprocessor-style line
              edge [color = red]
              a -> b -> "c\"d" [weight = 2];
              "long" + "name":port:n -> a
              subgraph { x; y } -> z
              html [label = <<b>bold</b>>]
              n1 [label = "first"] [shape = box]
              graph [rankdir = LR]; k = v
            }
            """;

        // Act
        var graph = TerraformGraph.Parse(dot);

        // Assert
        Assert.Equal(["a", "b", "c\"d", "longname", "x", "y", "z", "html", "n1"], graph.Nodes.Select(node => node.Name));
        Assert.Equal(["b"], graph.DependenciesOf(graph.FindByName("a")!).Select(node => node.Name));
        Assert.Equal(["c\"d"], graph.DependenciesOf(graph.FindByName("b")!).Select(node => node.Name));
        Assert.Equal(["a"], graph.DependenciesOf(graph.FindByName("longname")!).Select(node => node.Name));
        Assert.Equal(["x", "y"], graph.DependentsOf(graph.FindByName("z")!).Select(node => node.Name));
        Assert.Equal("<b>bold</b>", graph.FindByName("html")!.Label);
        Assert.Equal("first", graph.FindByName("n1")!.Label);
    }

    [Fact]
    public void Parse_IdsMentionedBeforeTheirDeclaration_AreOneNodeWithTheDeclaredLabel()
    {
        // Arrange: node ids are looked up by their characters in the text (no string per mention), so the same id
        // written quoted, unquoted, concatenated across a comment or with an escape must still be one node.
        const string dot = """
            digraph {
              "[root] a (expand)" -> b
              "[root] " /* split */ + "a (expand)" -> "c\"d"
              b [label = "b" + "-label", shape = "box"]
              "[root] a (expand)" [shape = box, label = "data.a"]
              "c\"d" -> "b"
            }
            """;

        // Act
        var graph = TerraformGraph.Parse(dot);

        // Assert
        Assert.Equal(["[root] a (expand)", "b", "c\"d"], graph.Nodes.Select(node => node.Name));
        Assert.Equal(["b", "c\"d"], graph.DependenciesOf(graph.FindByName("[root] a (expand)")!).Select(node => node.Name));
        Assert.Equal(["b"], graph.DependenciesOf(graph.FindByName("c\"d")!).Select(node => node.Name));
        Assert.Equal("b-label", graph.FindByName("b")!.Label);
        Assert.Equal("data.a", graph.FindByAddress("data.a")!.Label);
        Assert.Equal("b", graph.FindByAddress("b")!.Name);
    }

    [Fact]
    public void Parse_SubgraphEndpoints_AreEveryDistinctMemberOnceInFirstMentionOrder()
    {
        // Arrange: a subgraph's members include those of subgraphs inside it and nodes only used in its edges; the
        // parser keeps one log of mentions and reads a subgraph's members from it only when an edge needs them.
        const string dot = """
            digraph {
              subgraph outer { x; subgraph { y; x -> w } ; y } -> z
              a -> { c; b; c }
              subgraph unused { q }
            }
            """;

        // Act
        var graph = TerraformGraph.Parse(dot);

        // Assert
        Assert.Equal(["x", "y", "w"], graph.DependentsOf(graph.FindByName("z")!).Select(node => node.Name));
        Assert.Equal(["w", "z"], graph.DependenciesOf(graph.FindByName("x")!).Select(node => node.Name));
        Assert.Equal(["c", "b"], graph.DependenciesOf(graph.FindByName("a")!).Select(node => node.Name));
        Assert.Empty(graph.DependenciesOf(graph.FindByName("q")!));
        Assert.Equal(6, graph.EdgeCount);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("   \n", 0)]
    [InlineData("digraph {}", 0)]
    public void Parse_EmptyGraph_HasNoNodes(string dot, int expectedNodes)
    {
        // Act
        var graph = TerraformGraph.Parse(dot);

        // Assert
        Assert.Equal(expectedNodes, graph.Nodes.Count);
    }

    [Theory]
    [InlineData("digraph { a -> }", "line 1")]
    [InlineData("digraph {\n  \"unterminated\n}", "unterminated quoted string")]
    [InlineData("tree { a }", "expected 'digraph' or 'graph'")]
    [InlineData("digraph { a [label = \"x\" }", "unexpected character '}'")]
    [InlineData("digraph { a -> b", "missing '}'")]
    public void Parse_MalformedDot_ThrowsFormatExceptionSayingWhere(string dot, string expectedFragment)
    {
        // Act
        var exception = Assert.Throws<FormatException>(() => TerraformGraph.Parse(dot));

        // Assert
        Assert.Contains(expectedFragment, exception.Message, StringComparison.Ordinal);
        Assert.StartsWith("line ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nearest_Diamond_GivesAllMatchesAtTheShortestDistance()
    {
        // Arrange: top depends on the agent directly and through a chain; m2 and top are both one edge away.
        var graph = TerraformGraph.Parse("""
            digraph {
              "top" -> "agent"
              "top" -> "m1" -> "m2" -> "agent"
              "other" -> "m2"
            }
            """);
        var agent = graph.FindByName("agent")!;
        static bool NotM2(TerraformGraphNode node) => node.Name != "m2";

        // Act
        var nearestAny = graph.Nearest(agent, upwards: true, _ => true);
        var nearestNotM2 = graph.Nearest(graph.FindByName("m2")!, upwards: true, NotM2);
        var nearestOther = graph.Nearest(agent, upwards: true, node => node.Name == "other");
        var downwards = graph.Nearest(graph.FindByName("other")!, upwards: false, node => node.Name == "agent");
        var none = graph.Nearest(agent, upwards: false, _ => true);

        // Assert
        Assert.Equal(["top", "m2"], nearestAny.Select(node => node.Name));
        Assert.Equal(["m1", "other"], nearestNotM2.Select(node => node.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["other"], nearestOther.Select(node => node.Name));
        Assert.Equal(["agent"], downwards.Select(node => node.Name));
        Assert.Empty(none);
    }

    [Fact]
    public void Nearest_LayeredGraphWithExponentiallyManyPaths_FindsTheFarLayer()
    {
        // Arrange: 80 layers of 3 nodes, each node depending on every node of the layer below: 3^80 paths
        // from the top to the bottom, which a walk enumerating paths (as the reference does) never finishes.
        const int layers = 80;
        var dot = new StringBuilder("digraph {\n");
        for (var layer = 1; layer < layers; layer++)
        {
            for (var from = 0; from < 3; from++)
            {
                for (var to = 0; to < 3; to++)
                {
                    dot.Append($"  \"n{layer}_{from}\" -> \"n{layer - 1}_{to}\"\n");
                }
            }
        }

        dot.Append('}');
        var graph = TerraformGraph.Parse(dot.ToString());
        var visited = 0;

        // Act
        var nearest = graph.Nearest(graph.FindByName("n0_0")!, upwards: true, node =>
        {
            visited++;
            return node.Name.StartsWith($"n{layers - 1}_", StringComparison.Ordinal);
        });

        // Assert: every node above the start was looked at exactly once.
        Assert.Equal([$"n{layers - 1}_0", $"n{layers - 1}_1", $"n{layers - 1}_2"], nearest.Select(node => node.Name));
        Assert.Equal((layers - 1) * 3, visited);
    }
}
