using FlagExport.Tests.Formats;

namespace FlagExport.Tests.Exporters;

public sealed class ExportFileEncoderTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void ParquetRowGroupSize_BelowOne_IsRefusedNamingTheOptionAndTheValue(int size)
    {
        var error = Assert.Throws<ArgumentException>(() => ExportFileEncoder.Create(
            new FileExporterOptions { Format = "Parquet", ParquetRowGroupSize = size }, EventType.Feature));

        Assert.Equal("ParquetRowGroupSize", error.ParamName);
        Assert.Equal($"ParquetRowGroupSize must be at least 1 (the most rows in one Parquet row group); got '{size}'.", OptionErrors.MessageOf(error));
    }

    [Fact]
    public async Task ParquetRowGroupSize_SplitsTheBatchIntoRowGroupsOfThatManyRows()
    {
        using var encoder = ExportFileEncoder.Create(new FileExporterOptions { Format = "Parquet", ParquetRowGroupSize = 2 }, EventType.Feature);
        FeatureEvent[] events = [.. Enumerable.Range(0, 5).Select(i => new FeatureEvent { UserKey = $"user-{i}", Key = "k", CreationDate = i })];

        using PooledBufferWriter output = await encoder.EncodeAsync(events, TestContext.Current.CancellationToken);

        List<object?[]> groups = ParquetReaders.QueryWithDuckDb(output.WrittenSpan.ToArray(),
            "SELECT row_group_id, row_group_num_rows FROM parquet_metadata({file}) WHERE path_in_schema = 'userKey' ORDER BY row_group_id");
        Assert.Equal([[0L, 2L], [1L, 2L], [2L, 1L]], groups);
    }
}
