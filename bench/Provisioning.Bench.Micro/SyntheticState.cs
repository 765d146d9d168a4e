using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Provisioning.Bench.Micro;

/// <summary>
/// A <c>terraform show -json</c> state and a <c>terraform graph -type=plan</c> DOT text of N resources, in the shapes
/// Terraform 1.11 prints them: resource i is <c>terraform_data.r{i}</c>, except every tenth, which is
/// <c>coder_agent.a{i}</c>; the resource after each agent depends on it (the edge the converter follows).
/// </summary>
internal static class SyntheticState
{
    public static (byte[] Json, string Dot) Create(int resources)
    {
        using var buffer = new MemoryStream();
        var dot = new StringBuilder("digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\tsubgraph \"root\" {\n");
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("format_version", "1.0");
            writer.WriteString("terraform_version", "1.11.4");
            writer.WriteStartObject("values");
            writer.WriteStartObject("root_module");
            writer.WriteStartArray("resources");
            for (var i = 0; i < resources; i++)
            {
                var agent = i % 10 == 0;
                var type = agent ? "coder_agent" : "terraform_data";
                var name = string.Create(CultureInfo.InvariantCulture, $"{(agent ? "a" : "r")}{i}");
                var provider = agent ? "registry.terraform.io/coder/coder" : "terraform.io/builtin/terraform";
                writer.WriteStartObject();
                writer.WriteString("address", $"{type}.{name}");
                writer.WriteString("mode", "managed");
                writer.WriteString("type", type);
                writer.WriteString("name", name);
                writer.WriteString("provider_name", provider);
                writer.WriteNumber("schema_version", agent ? 1 : 0);
                writer.WriteStartObject("values");
                if (agent)
                {
                    writer.WriteString("arch", "amd64");
                    writer.WriteString("os", "linux");
                    writer.WriteString("auth", "token");
                    writer.WriteString("id", Guid.NewGuid().ToString());
                    writer.WriteString("token", Guid.NewGuid().ToString());
                    writer.WriteString("dir", "/home/coder");
                    writer.WriteNumber("connection_timeout", 120);
                    writer.WriteNull("startup_script");
                    writer.WriteStartObject("env");
                    writer.WriteString("GREETING", "hello");
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteString("id", Guid.NewGuid().ToString());
                    writer.WriteString("input", $"value-{i}");
                    writer.WriteString("output", $"value-{i}");
                    writer.WriteNull("triggers_replace");
                }

                writer.WriteEndObject();
                writer.WriteStartObject("sensitive_values");
                writer.WriteEndObject();
                if (!agent && i % 10 == 1)
                {
                    writer.WriteStartArray("depends_on");
                    writer.WriteStringValue($"coder_agent.a{i - 1}");
                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
                dot.Append(CultureInfo.InvariantCulture, $"\t\t\"[root] {type}.{name} (expand)\" [label = \"{type}.{name}\", shape = \"box\"]\n");
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        for (var i = 1; i < resources; i += 10)
        {
            dot.Append(CultureInfo.InvariantCulture, $"\t\t\"[root] terraform_data.r{i} (expand)\" -> \"[root] coder_agent.a{i - 1} (expand)\"\n");
        }

        dot.Append("\t}\n}\n");
        return (buffer.ToArray(), dot.ToString());
    }
}
