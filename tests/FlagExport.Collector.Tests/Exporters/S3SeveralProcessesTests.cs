using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlagExport.Collector.Tests.Support;

namespace FlagExport.Collector.Tests.Exporters;

/// <summary>
/// Several collector processes (no shared memory, so no shared record of the names given out) exporting to one bucket
/// and path with a name template without UUID: names collide, and only S3's <c>If-None-Match: *</c> can tell a process
/// that the name is taken. Every event must still be in the bucket exactly once.
/// </summary>
public sealed class S3SeveralProcessesTests : IDisposable
{
    private const int Processes = 3;
    private const int EventsPerProcess = 4;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    // No field changes between flushes: every process picks the same name, so all but one must be refused by S3.
    [InlineData("flag-variation.{{ .Format}}", @"^flag-variation(?:-(?<suffix>\d+))?\.json$", true)]
    // The relay proxy's name without the host: the same name for flushes in the same second (likely, not forced).
    [InlineData("flag-variation-{{ .Timestamp}}.{{ .Format}}", @"^flag-variation-\d{10}(?:-(?<suffix>\d+))?\.json$", false)]
    public async Task ProcessesFlushingTogether_WithOneNameTemplate_WriteDistinctObjects_AndEveryEventOnce(
        string filename, string keyPattern, bool collisionForced)
    {
        S3Server s3 = await S3Server.RequireAsync();
        string prefix = S3Server.NewPrefix("processes");
        await File.WriteAllTextAsync(_directory.Combine("collector.yaml"), $"""
            exporters:
              - kind: s3
                bucket: {s3.Bucket}
                path: {prefix}
                serviceUrl: {s3.Endpoint}
                forcePathStyle: true
                region: {s3.Region}
                format: json
                filename: '{filename}'
                flushInterval: 3600000
            """, TestContext.Current.CancellationToken);
        var collectors = new List<CollectorProcess>();
        try
        {
            for (int i = 0; i < Processes; i++)
            {
                // Debug for the S3 exporter: its "already exists; trying the next free name" line is the trace of a 412.
                // Each its own durable buffer, as several instances on one host need (a buffer belongs to one process).
                collectors.Add(CollectorProcess.Start(
                    _directory.Path,
                    ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"],
                    new Dictionary<string, string>
                    {
                        ["Logging__LogLevel__FlagExport.S3"] = "Debug",
                        ["bufferDirectory"] = "buffer-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    }));
            }

            string[] addresses = await Task.WhenAll(collectors.Select(c => c.WaitUntilListeningAsync()));
            using var client = new HttpClient();
            for (int i = 0; i < Processes; i++)
            {
                string events = string.Join(",", Enumerable.Range(0, EventsPerProcess).Select(j =>
                    $$"""{"kind":"feature","contextKind":"user","userKey":"{{UserKey(i, j)}}","creationDate":1700000000,"key":"several-processes","value":{{j}}}"""));
                HttpResponseMessage response = await client.PostAsync(
                    addresses[i] + "/v1/data/collector",
                    new StringContent($$"""{"events":[{{events}}]}""", Encoding.UTF8, "application/json"),
                    TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            Assert.Empty(await s3.ReadAllAsync(prefix));

            // Signals right after a second starts, so that {{ .Timestamp}} flushes most likely share their second. Not
            // needed for correctness (the assertions hold either way), only to make a collision likely.
            await StartOfASecondAsync();
            foreach (CollectorProcess collector in collectors)
            {
                collector.Signal("TERM");
            }

            int[] exitCodes = await Task.WhenAll(collectors.Select(c => c.WaitForExitAsync()));
            Assert.All(exitCodes, code => Assert.Equal(0, code));

            SortedDictionary<string, byte[]> objects = await s3.ReadAllAsync(prefix);
            TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, objects.Keys));

            // Every event exactly once, each object holding one process's batch.
            Assert.Equal(Processes, objects.Count);
            string[][] userKeysByObject = [.. objects.Values.Select(UserKeys)];
            Assert.Equal(
                Enumerable.Range(0, Processes).SelectMany(i => Enumerable.Range(0, EventsPerProcess).Select(j => UserKey(i, j))).Order(StringComparer.Ordinal),
                userKeysByObject.SelectMany(keys => keys).Order(StringComparer.Ordinal));
            Assert.All(userKeysByObject, keys => Assert.Single(keys.Select(k => k.Split('-')[0]).Distinct()));

            // Keys with the same rendered name are that name, then name-1, name-2...: the refused writers moved on.
            var regex = new Regex(keyPattern);
            var byName = objects.Keys
                .Select(key => key[prefix.Length..])
                .Select(name => (Name: name, Match: regex.Match(name)))
                .Select(n =>
                {
                    Assert.True(n.Match.Success, $"'{n.Name}' does not match {keyPattern}");
                    Group suffix = n.Match.Groups["suffix"];
                    return (Base: suffix.Success ? n.Name.Remove(suffix.Index - 1, suffix.Length + 1) : n.Name,
                            Suffix: suffix.Success ? int.Parse(suffix.Value, System.Globalization.CultureInfo.InvariantCulture) : 0);
                })
                .GroupBy(n => n.Base)
                .ToArray();
            Assert.All(byName, group => Assert.Equal(Enumerable.Range(0, group.Count()), group.Select(n => n.Suffix).Order()));
            int collisions = byName.Sum(group => group.Count() - 1);
            if (collisionForced)
            {
                Assert.Equal(["flag-variation-1.json", "flag-variation-2.json", "flag-variation.json"], objects.Keys.Select(key => key[prefix.Length..]));
            }

            // Each name given out twice was refused by S3 at least once (a process that shares nothing cannot know).
            int refused = collectors.Sum(c => Regex.Count(c.Output, "already exists; trying the next free name"));
            Assert.True(refused >= collisions, $"{collisions} collisions but only {refused} refusals logged.");
            TestContext.Current.TestOutputHelper?.WriteLine($"{collisions} names taken by another process, {refused} refusals logged.");
        }
        finally
        {
            foreach (CollectorProcess collector in collectors)
            {
                collector.Dispose();
            }

            await s3.DeleteAllAsync(prefix);
        }
    }

    private static string UserKey(int process, int @event) => $"p{process}-e{@event}";

    private static string[] UserKeys(byte[] jsonLines) =>
    [
        .. Encoding.UTF8.GetString(jsonLines).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!),
    ];

    /// <summary>Waits (at most a second) until the wall clock is in the first 50 ms of a second.</summary>
    private static async Task StartOfASecondAsync()
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(1.1);
        while (DateTime.UtcNow.Millisecond >= 50 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
