using Parquet.Schema;

namespace FlagExport.Formats;

/// <summary>
/// Where <see cref="ParquetEncoder"/> hands its columns, one call per leaf column in schema order: Parquet.Net's row
/// group writer when encoding, or a test's sink that discards them, so that the encoder's own allocations can be
/// measured apart from Parquet.Net's.
/// </summary>
internal interface IParquetColumnSink
{
    /// <summary>Writes one column; the memory is valid only until the returned task completes.</summary>
    /// <param name="field">The leaf field.</param>
    /// <param name="values">The values, without nulls.</param>
    /// <param name="definitionLevels">Null for a REQUIRED top-level column; the levels of a map's key or value column.</param>
    /// <param name="repetitionLevels">Null for a top-level column; the levels of a map's key or value column.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    Task WriteAsync<T>(DataField field, ReadOnlyMemory<T> values, ReadOnlyMemory<int>? definitionLevels, ReadOnlyMemory<int>? repetitionLevels, CancellationToken cancellationToken)
        where T : struct;
}
