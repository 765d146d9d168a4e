using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using Provisioning.Sdk.Daemon;

using Log = Provisioning.Sdk.Daemon.Log;

namespace Provisioning.Coordinator.Tests.Api;

public sealed class LogFollowTests(PostgresServerFixture server)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Follow_OnOneReplica_SeesLinesAppendedThroughAnotherAndEndsWithTheJob()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeout);
        var token = timeout.Token;
        await using var first = await ApiServer.StartAsync(server, token);
        await using var second = await ApiServer.StartOnAsync(first.ConnectionString, token);
        using var admin = await first.AdminAsync();
        var tags = new Dictionary<string, string> { ["test"] = "follow" };
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), token);
        using var pushed = await admin.PostAsJsonAsync("/api/v1/templates/followed/versions", new { file_hash = hash, provisioner_tags = tags }, token);
        var jobId = (await ApiFixture.ReadAsync(pushed, token)).GetProperty("job").GetProperty("id").GetString();
        var daemon = await second.RegisterDaemonAsync("replica-daemon", tags, token);
        var acquired = await second.AcquireAsync(daemon, token);

        // Follow on the first replica; the daemon talks only to the second.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/jobs/{jobId}/logs?follow=true");
        using var response = await admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
        await using var stream = await response.Content.ReadAsStreamAsync(token);
        using var reader = new StreamReader(stream);
        var events = new List<(string Event, string Data)>();
        var reading = ReadEventsAsync(reader, events, token);
        await second.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = acquired.JobId, Logs = { Line("first line") } }, daemon, cancellationToken: token);
        await WaitForAsync(events, 1, token);
        await second.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = acquired.JobId, Logs = { Line("second line") } }, daemon, cancellationToken: token);
        await WaitForAsync(events, 2, token);
        await second.Daemons.CompleteJobAsync(new CompletedJob { JobId = acquired.JobId, TemplateImport = new CompletedJob.Types.TemplateImport() }, daemon, cancellationToken: token);
        await reading;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["log", "log", "end"], events.Select(item => item.Event));
        Assert.Equal("first line", JsonDocument.Parse(events[0].Data).RootElement.GetProperty("output").GetString());
        Assert.Equal("second line", JsonDocument.Parse(events[1].Data).RootElement.GetProperty("output").GetString());
        Assert.Equal("succeeded", JsonDocument.Parse(events[2].Data).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Follow_MoreLinesThanAPage_SendsEveryLineOnceInOrder_AsThePagedReadShowsIt()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeout);
        var token = timeout.Token;
        await using var api = await ApiServer.StartAsync(server, token);
        using var admin = await api.AdminAsync();
        var tags = new Dictionary<string, string> { ["test"] = "follow-pages" };
        var hash = await TemplateTars.UploadAsync(admin, TemplateTars.Unique(), token);
        using var pushed = await admin.PostAsJsonAsync("/api/v1/templates/followed-pages/versions", new { file_hash = hash, provisioner_tags = tags }, token);
        var jobId = (await ApiFixture.ReadAsync(pushed, token)).GetProperty("job").GetProperty("id").GetString();
        var daemon = await api.RegisterDaemonAsync("pages-daemon", tags, token);
        var acquired = await api.AcquireAsync(daemon, token);

        // Two and a half pages (JobStore.LogPageSize), with text the JSON encoder escapes, stored before and while following.
        const int Lines = 2500;
        var outputs = Enumerable.Range(1, Lines).Select(number => number % 500 == 0 ? $"line {number}: \"quoted\" <b>&</b> naïve ✓ \\ end" : $"line {number}").ToList();
        await api.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = acquired.JobId, Logs = { outputs.Take(1200).Select(Line) } }, daemon, cancellationToken: token);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/jobs/{jobId}/logs?follow=true");
        using var response = await admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
        await using var stream = await response.Content.ReadAsStreamAsync(token);
        using var reader = new StreamReader(stream);
        var events = new List<(string Event, string Data)>();
        var ids = new List<string>();
        var reading = ReadEventsAsync(reader, events, token, ids);
        await api.Daemons.UpdateJobAsync(new UpdateJobRequest { JobId = acquired.JobId, Logs = { outputs.Skip(1200).Select(Line) } }, daemon, cancellationToken: token);
        await api.Daemons.CompleteJobAsync(new CompletedJob { JobId = acquired.JobId, TemplateImport = new CompletedJob.Types.TemplateImport() }, daemon, cancellationToken: token);
        await reading;
        var paged = new List<string>();
        long cursor = 0;
        while (true)
        {
            using var page = await admin.GetAsync($"/api/v1/jobs/{jobId}/logs?after={cursor}", token);
            var lines = (await ApiFixture.ReadAsync(page, token)).EnumerateArray().ToList();
            if (lines.Count == 0)
            {
                break;
            }

            paged.AddRange(lines.Select(line => line.GetRawText()));
            cursor = lines[^1].GetProperty("id").GetInt64();
        }

        var logEvents = events.Where(item => item.Event == "log").Select(item => item.Data).ToList();
        Assert.Equal(Lines + 1, events.Count);
        Assert.Equal("end", events[^1].Event);
        Assert.Equal(outputs, logEvents.Select(data => JsonDocument.Parse(data).RootElement.GetProperty("output").GetString()));
        Assert.Equal(paged, logEvents);
        Assert.Equal(logEvents.Select(data => JsonDocument.Parse(data).RootElement.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)), ids);
    }

    private static async Task ReadEventsAsync(StreamReader reader, List<(string Event, string Data)> events, CancellationToken cancellationToken, List<string>? ids = null)
    {
        string? name = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                ids?.Add(line["id: ".Length..]);
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                lock (events)
                {
                    events.Add((name ?? "message", line["data: ".Length..]));
                }
            }
        }
    }

    private static async Task WaitForAsync(List<(string Event, string Data)> events, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (events)
            {
                if (events.Count >= count)
                {
                    return;
                }
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private static Log Line(string output) => new() { Source = LogSource.Provisioner, Level = Provisioning.Sdk.Protocol.LogLevel.Info, Output = output };
}
