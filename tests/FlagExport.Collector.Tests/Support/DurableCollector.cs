using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Amazon.S3;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// What the durable-buffer process tests share: a collector configuration with a buffer folder and one s3 exporter,
/// requests of events told apart by their user keys, and the user keys found in the bucket afterwards.
/// </summary>
internal static class DurableCollector
{
    /// <summary>How long a test waits for the objects it expects; far above what a healthy run needs.</summary>
    public static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>collector.yaml</c> text: the buffer in <paramref name="directory"/>/buffer, dead letters in
    /// <paramref name="directory"/>/dead-letter, one JSON s3 exporter reaching S3 through <paramref name="serviceUrl"/>.
    /// </summary>
    public static string Yaml(
        TempDirectory directory, S3Server s3, Uri serviceUrl, string prefix, int flushIntervalMs = 200, int maxEventInMemory = 100, long? maxBufferBytes = null) => $"""
        bufferDirectory: {BufferDirectory(directory)}
        deadLetterDirectory: {DeadLetterDirectory(directory)}
        {(maxBufferBytes is { } max ? "maxBufferBytes: " + max.ToString(CultureInfo.InvariantCulture) : "")}
        exporters:
          - kind: s3
            bucket: {s3.Bucket}
            path: {prefix}
            serviceUrl: {serviceUrl.ToString().TrimEnd('/')}
            forcePathStyle: true
            region: {s3.Region}
            # The tests start it during an outage (a fault proxy in front of S3): no bucket check at start.
            verifyBucketOnStart: false
            format: json
            flushInterval: {flushIntervalMs.ToString(CultureInfo.InvariantCulture)}
            maxEventInMemory: {maxEventInMemory.ToString(CultureInfo.InvariantCulture)}
        """;

    public static string BufferDirectory(TempDirectory directory) => directory.Combine("buffer");

    public static string DeadLetterDirectory(TempDirectory directory) => directory.Combine("dead-letter");

    /// <summary>
    /// Deletes a folder the running collector keeps writing into, as an operator's <c>rm -rf</c> would: a file the
    /// collector creates between the listing and the last <c>rmdir</c> makes one pass fail with "Directory not empty",
    /// so passes repeat until the folder is gone.
    /// </summary>
    public static void DeleteWhileInUse(string folder)
    {
        for (int pass = 1; ; pass++)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
                return;
            }
            catch (IOException) when (pass < 100 && Directory.Exists(folder))
            {
            }
        }
    }

    /// <summary>The segment files of the buffer's log, oldest first.</summary>
    public static string[] Segments(TempDirectory directory) =>
        [.. Directory.GetFiles(Path.Combine(BufferDirectory(directory), "log"), "*.seg").Order(StringComparer.Ordinal)];

    /// <summary>Starts the built collector on a free port with <c>collector.yaml</c> of <paramref name="directory"/>.</summary>
    public static CollectorProcess Start(TempDirectory directory) =>
        CollectorProcess.Start(directory.Path, ["--config", "collector.yaml", "--urls", "http://127.0.0.1:0"]);

    /// <summary><paramref name="count"/> user keys no other request of the test uses.</summary>
    public static string[] Keys(string tag, int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{tag}-{i:D6}"))];

    /// <summary>Posts one feature event per user key in one request; returns the status (the body is read too).</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string address, IEnumerable<string> userKeys, CancellationToken cancellationToken = default)
    {
        var body = new StringBuilder("""{"events":[""");
        bool first = true;
        foreach (string key in userKeys)
        {
            _ = body.Append(first ? "" : ",")
                .Append(CultureInfo.InvariantCulture, $$"""{"kind":"feature","contextKind":"user","userKey":"{{key}}","creationDate":1700000000,"key":"flag","variation":"v","value":1}""");
            first = false;
        }

        _ = body.Append("]}");
        HttpResponseMessage response = await client.PostAsync(
            address + "/v1/data/collector", new StringContent(body.ToString(), Encoding.UTF8, "application/json"), cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        return response;
    }

    /// <summary>
    /// Posts requests of <paramref name="size"/> new user keys (tagged <paramref name="tag"/>, numbered from
    /// <paramref name="next"/>) until one is refused or <paramref name="limit"/> keys were sent; the keys of each answered
    /// request go to <paramref name="acknowledged"/> or <paramref name="refused"/>.
    /// </summary>
    /// <returns>The refusal (the caller disposes it), or null when every request was acknowledged; and the next key number.</returns>
    public static async Task<(HttpResponseMessage? Refusal, int Next)> PostUntilRefusedAsync(
        HttpClient client, string address, string tag, int next, int size, int limit, List<string> acknowledged, List<string> refused, CancellationToken cancellationToken)
    {
        while (next < limit)
        {
            string[] keys = Keys(tag, next, size);
            next += size;
            HttpResponseMessage response = await PostAsync(client, address, keys, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                refused.AddRange(keys);
                return (response, next);
            }

            acknowledged.AddRange(keys);
            response.Dispose();
        }

        return (null, next);
    }

    /// <summary>How many objects are under <paramref name="prefix"/> (listed, not read).</summary>
    public static async Task<int> CountObjectsAsync(S3Server s3, string prefix)
    {
        using AmazonS3Client client = s3.CreateClient();
        return (await S3Read.ListAsync(client, s3.Bucket, prefix)).Count;
    }

    /// <summary>The user keys of every object under <paramref name="prefix"/>, by object key.</summary>
    public static async Task<SortedDictionary<string, string[]>> ReadUserKeysAsync(S3Server s3, string prefix)
    {
        var objects = new SortedDictionary<string, string[]>(StringComparer.Ordinal);
        foreach ((string key, byte[] body) in await s3.ReadAllAsync(prefix))
        {
            objects[key] = [.. Encoding.UTF8.GetString(body)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("userKey").GetString()!)];
        }

        return objects;
    }

    /// <summary>Polls the bucket until its objects hold every key of <paramref name="expected"/>, or fails after <see cref="ExportTimeout"/>.</summary>
    public static async Task<SortedDictionary<string, string[]>> WaitForKeysAsync(
        S3Server s3, string prefix, IReadOnlyCollection<string> expected, CollectorProcess collector)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(ExportTimeout);
        while (true)
        {
            SortedDictionary<string, string[]> objects = await ReadUserKeysAsync(s3, prefix);
            var found = objects.Values.SelectMany(k => k).ToHashSet(StringComparer.Ordinal);
            int missing = expected.Count(k => !found.Contains(k));
            if (missing == 0)
            {
                return objects;
            }

            try
            {
                await Task.Delay(200, timeout.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"After {ExportTimeout.TotalSeconds} s, {missing} of {expected.Count} events are not in the bucket ({objects.Count} objects). Collector output:{Environment.NewLine}{collector.Output}");
            }
        }
    }

    /// <summary>
    /// Every key of <paramref name="required"/> is in exactly one object, once; no key appears twice anywhere (so no two
    /// objects share an event); every key is one of <paramref name="allowed"/>.
    /// </summary>
    public static void AssertExactlyOnce(
        SortedDictionary<string, string[]> objects, IReadOnlyCollection<string> required, IReadOnlySet<string> allowed)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var twice = new List<string>();
        foreach ((string objectKey, string[] userKeys) in objects)
        {
            foreach (string userKey in userKeys)
            {
                if (!seen.TryAdd(userKey, objectKey))
                {
                    twice.Add($"{userKey} in {seen[userKey]} and {objectKey}");
                }
            }
        }

        Assert.True(twice.Count == 0, $"{twice.Count} events written twice, for example: {string.Join("; ", twice.Take(5))}");
        string[] missing = [.. required.Where(k => !seen.ContainsKey(k))];
        Assert.True(missing.Length == 0, $"{missing.Length} acknowledged events are missing, for example: {string.Join(", ", missing.Take(5))}");
        string[] unexpected = [.. seen.Keys.Where(k => !allowed.Contains(k))];
        Assert.True(unexpected.Length == 0, $"{unexpected.Length} events that were never accepted were written, for example: {string.Join(", ", unexpected.Take(5))}");
    }

    /// <summary>No batch was set aside: what the tests count as exported went to S3, not to dead letters.</summary>
    public static void AssertNoDeadLetters(TempDirectory directory)
    {
        string folder = DeadLetterDirectory(directory);
        Assert.True(!Directory.Exists(folder) || Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Length == 0,
            $"Dead letters in {folder}: a batch was given up.");
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling, or fails after <paramref name="seconds"/> with <paramref name="what"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        while (!await condition())
        {
            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"Not within {seconds} s: {what}");
            }
        }
    }
}
