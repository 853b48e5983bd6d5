using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

// The floor for the collector's throughput: the same host kind (slim builder, Kestrel, routing) and the same endpoint,
// but none of the collector's conversion, buffering or export. Two modes:
//   --mode read  (default) read the whole body into a pooled 64 KiB buffer and answer: what HTTP alone costs.
//   --mode json  also one Utf8JsonReader pass over every token of the body, straight from the request's PipeReader
//                (no copy, no JsonDocument), counting the elements of "events": the least a JSON ingester can do.
//   --mode json-write  json, and the bodies written to files as a folder exporter writes its batches: appended in
//                memory, one new file per 100,000 events in one write, flushed to disk (--dir, default ./bare-write):
//                the least a JSON ingester that writes what it receives can do.
// Usage: BareKestrel --urls http://127.0.0.1:PORT [--mode read|json|json-write] [--dir DIR]
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning); // like the collector: no line per request
string mode = builder.Configuration["mode"] ?? "read";
if (mode is not ("read" or "json" or "json-write"))
{
    Console.Error.WriteLine($"--mode must be read, json or json-write; got '{mode}'");
    return 1;
}

WebApplication app = builder.Build();
byte[] answer = """{"ingestedContentCount":100}"""u8.ToArray(); // about the collector's answer, so responses cost the same

if (mode == "read")
{
    app.MapPost("/v1/data/collector", async context =>
    {
        // Read to the end as the collector does: a server that stops at Content-Length would skip work the collector pays.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
            {
            }

            context.Response.ContentType = "application/json";
            context.Response.ContentLength = answer.Length;
            await context.Response.Body.WriteAsync(answer, context.RequestAborted);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    });
}
else
{
    BatchFiles? files = mode == "json-write" ? new BatchFiles(builder.Configuration["dir"] ?? "bare-write") : null;
    app.MapPost("/v1/data/collector", async context =>
    {
        PipeReader body = context.Request.BodyReader;
        var scan = new EventScan();
        while (true)
        {
            ReadResult read = await body.ReadAsync(context.RequestAborted);
            ReadOnlySequence<byte> buffer = read.Buffer;
            long consumed;
            try
            {
                consumed = scan.Feed(buffer, read.IsCompleted);
            }
            catch (JsonException)
            {
                body.AdvanceTo(buffer.End);
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            // Tokens the reader finished are released; an unfinished one stays for the next read, joined to what follows.
            files?.Append(buffer.Slice(0, consumed));
            body.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        files?.Counted(scan.Events);

        // The count goes into the answer, as the collector's does, so the pass cannot be optimised away.
        byte[] response = new byte[64];
        "{\"ingestedContentCount\":"u8.CopyTo(response);
        int length = 24;
        Utf8Formatter.TryFormat(scan.Events, response.AsSpan(length), out int written);
        length += written;
        response[length++] = (byte)'}';
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = length;
        await context.Response.Body.WriteAsync(response.AsMemory(0, length), context.RequestAborted);
    });
}

app.MapGet("/health", () => Results.Ok());

await app.RunAsync();
return 0;

/// <summary>
/// One forward pass over a request body that may arrive in several segments: reads every token and counts the objects
/// directly inside the top-level "events" array. A Utf8JsonReader cannot live across an await, so its state is kept here.
/// </summary>
internal sealed class EventScan
{
    private JsonReaderState state;
    private bool inEvents;

    public long Events { get; private set; }

    /// <summary>Reads the complete tokens of <paramref name="buffer"/>; returns how many bytes they took.</summary>
    public long Feed(ReadOnlySequence<byte> buffer, bool isFinalBlock)
    {
        var reader = new Utf8JsonReader(buffer, isFinalBlock, state);
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName when reader.CurrentDepth == 1:
                    inEvents = reader.ValueTextEquals("events"u8);
                    break;
                case JsonTokenType.StartObject when reader.CurrentDepth == 2 && inEvents:
                    Events++;
                    break;
            }
        }

        state = reader.CurrentState;
        return reader.BytesConsumed;
    }
}

/// <summary>
/// The bodies received, kept in memory and written as one new file per 100,000 events, in one write, flushed to disk, by
/// one background writer: the I/O a folder exporter does with its batches, without encoding anything.
/// </summary>
internal sealed class BatchFiles
{
    private const long EventsPerFile = 100_000;
    private readonly string _directory;
    private readonly object _lock = new();
    private ArrayBufferWriter<byte> _pending = new(32 * 1024 * 1024);
    private ArrayBufferWriter<byte> _spare = new(32 * 1024 * 1024);
    private long _events;
    private int _files;
    private Task _writing = Task.CompletedTask;

    public BatchFiles(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
    }

    public void Append(ReadOnlySequence<byte> bytes)
    {
        lock (_lock)
        {
            foreach (ReadOnlyMemory<byte> segment in bytes)
            {
                _pending.Write(segment.Span);
            }
        }
    }

    public void Counted(long events)
    {
        lock (_lock)
        {
            _events += events;
            if (_events < EventsPerFile || !_writing.IsCompleted)
            {
                return; // the writer is busy: the batch grows, as an exporter's does
            }

            // The full buffer goes to the writer and the spare one, which the finished writer has emptied, takes its place.
            ArrayBufferWriter<byte> full = _pending;
            _pending = _spare;
            _spare = full;
            _events = 0;
            string path = Path.Combine(_directory, $"batch-{++_files}.json");
            _writing = Task.Run(() =>
            {
                using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
                {
                    file.Write(full.WrittenSpan);
                    file.Flush(flushToDisk: true);
                }

                full.ResetWrittenCount();
            });
        }
    }
}
