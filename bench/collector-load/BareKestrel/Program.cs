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
// Usage: BareKestrel --urls http://127.0.0.1:PORT [--mode read|json]
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning); // like the collector: no line per request
string mode = builder.Configuration["mode"] ?? "read";
if (mode is not ("read" or "json"))
{
    Console.Error.WriteLine($"--mode must be read or json; got '{mode}'");
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
            body.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

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
