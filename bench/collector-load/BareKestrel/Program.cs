using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

// The floor for the collector's throughput: the same host kind (slim builder, Kestrel, routing) and the same body read
// (the whole body into a pooled 64 KiB buffer), but no JSON parsing, no events and no disk. Whatever the collector
// costs beyond this is the collector's own work. Usage: BareKestrel --urls http://127.0.0.1:PORT
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning); // like the collector: no line per request

WebApplication app = builder.Build();
byte[] answer = """{"ingestedContentCount":100}"""u8.ToArray(); // about the collector's answer, so responses cost the same

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
app.MapGet("/health", () => Results.Ok());

await app.RunAsync();
