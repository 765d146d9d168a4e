using System.Collections.Concurrent;
using System.Net;

using Google.Protobuf;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Provisioning.Cli.Tests;

/// <summary>
/// An OTLP/HTTP trace receiver on 127.0.0.1 (POST /v1/traces, protobuf), as a collector would run: it decodes the fields
/// of each span the tests look at (trace id, span id, parent span id, name, the service it came from).
/// </summary>
public sealed class OtlpTraceReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpTraceReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    public string Endpoint => _app.Urls.Single();

    public static async Task<OtlpTraceReceiver> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpTraceReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            receiver.Decode(body.ToArray());
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync(cancellationToken);
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    private void Decode(byte[] request)
    {
        foreach (var resourceSpans in Repeated(request, 1))
        {
            var service = Fields(resourceSpans, 1).SelectMany(resource => Repeated(resource, 1)).Select(Attribute)
                .FirstOrDefault(attribute => attribute.Key == "service.name").Value ?? string.Empty;
            foreach (var scopeSpans in Repeated(resourceSpans, 2))
            {
                foreach (var span in Repeated(scopeSpans, 2))
                {
                    Spans.Enqueue(new ReceivedSpan(
                        Convert.ToHexStringLower(Fields(span, 1).FirstOrDefault() ?? []),
                        Convert.ToHexStringLower(Fields(span, 2).FirstOrDefault() ?? []),
                        Convert.ToHexStringLower(Fields(span, 4).FirstOrDefault() ?? []),
                        System.Text.Encoding.UTF8.GetString(Fields(span, 5).FirstOrDefault() ?? []),
                        service));
                }
            }
        }
    }

    // KeyValue { string key = 1; AnyValue value = 2 { string string_value = 1; } }
    private static KeyValuePair<string, string?> Attribute(byte[] keyValue)
    {
        var key = System.Text.Encoding.UTF8.GetString(Fields(keyValue, 1).FirstOrDefault() ?? []);
        var value = Fields(keyValue, 2).Select(any => Fields(any, 1).FirstOrDefault()).FirstOrDefault(bytes => bytes is not null);
        return KeyValuePair.Create(key, value is null ? null : System.Text.Encoding.UTF8.GetString(value));
    }

    private static IEnumerable<byte[]> Repeated(byte[] message, int field) => Fields(message, field);

    /// <summary>The length-delimited values of <paramref name="field"/> in a protobuf message (others skipped).</summary>
    private static List<byte[]> Fields(byte[] message, int field)
    {
        var values = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                values.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return values;
    }
}

/// <summary>One span as a collector received it.</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, string Service);
