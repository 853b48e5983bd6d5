using FlagExport.Buffers;

namespace FlagExport.Formats;

/// <summary>Encodes a batch of events into one file's bytes (JSON lines, CSV or Parquet).</summary>
/// <remarks>Implementations are stateless between calls and safe to use from one worker at a time.</remarks>
internal interface IBatchEncoder
{
    /// <summary>The format written, which also gives the <c>{{ .Format}}</c> file extension.</summary>
    ExportFormat Format { get; }

    /// <summary>Appends the encoding of <paramref name="events"/> (all of one <see cref="EventType"/>) to <paramref name="output"/>.</summary>
    ValueTask EncodeAsync(IReadOnlyList<ExportableEvent> events, PooledBufferWriter output, CancellationToken cancellationToken);
}
