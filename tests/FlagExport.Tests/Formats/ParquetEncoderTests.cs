using System.Text.Json;
using FlagExport.Buffers;
using FlagExport.Formats;

namespace FlagExport.Tests.Formats;

public sealed class ParquetEncoderTests
{
    /// <summary>Every value <c>ParquetCompressionCodec</c> accepts, as go-feature-flag users write them.</summary>
    public static TheoryData<string> Codecs => new("UNCOMPRESSED", "SNAPPY", "GZIP", "BROTLI", "LZ4", "LZ4_RAW", "ZSTD");

    private const string FeatureColumnsSql =
        """
        SELECT kind, contextKind, userKey, creationDate, key, variation, value, "default", version, source,
               map_keys(metadata), map_values(metadata)
        FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number
        """;

    private const string TrackingColumnsSql =
        """
        SELECT kind, contextKind, userKey, creationDate, key, map_keys(evaluationContext), map_values(evaluationContext),
               map_keys(trackingEventDetails), map_values(trackingEventDetails)
        FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number
        """;

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task FeatureBatch_ReadBackWithParquetSharp_HasEveryValueOfEveryRow(string codec)
    {
        ExpectedFeatureRow[] expected = ParquetSampleEvents.Features();

        byte[] file = await EncodeAsync([.. expected.Select(r => r.Event)], codec);

        Dictionary<string, object[]> columns = ParquetReaders.ReadWithParquetSharp(file, out long rowCount, out int rowGroups);
        Assert.Equal(1, rowGroups);
        Assert.Equal(expected.Length, rowCount);
        string[] names =
        [
            "kind", "contextKind", "userKey", "creationDate", "key", "variation", "value", "default", "version", "source",
            "metadata.key_value.key", "metadata.key_value.value",
        ];
        Assert.Equal(names, columns.Keys);
        Assert.Equal(
            expected.Select(FeatureRow),
            Enumerable.Range(0, expected.Length).Select(i => Row(names.Select(n => columns[n][i]))));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task FeatureBatch_ReadBackWithDuckDb_HasEveryValueOfEveryRow(string codec)
    {
        ExpectedFeatureRow[] expected = ParquetSampleEvents.Features();

        byte[] file = await EncodeAsync([.. expected.Select(r => r.Event)], codec);

        List<object?[]> rows = ParquetReaders.QueryWithDuckDb(file, FeatureColumnsSql);
        Assert.Equal(expected.Select(FeatureRow), rows.Select(r => Row(r)));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task TrackingBatch_ReadBackWithBothReaders_HasEveryValueOfEveryRow(string codec)
    {
        ExpectedTrackingRow[] expected = ParquetSampleEvents.Trackings();

        byte[] file = await EncodeAsync([.. expected.Select(r => r.Event)], codec);

        string[] expectedRows = [.. expected.Select(TrackingRow)];
        Dictionary<string, object[]> columns = ParquetReaders.ReadWithParquetSharp(file, out long rowCount, out _);
        Assert.Equal(expected.Length, rowCount);
        string[] names =
        [
            "kind", "contextKind", "userKey", "creationDate", "key",
            "evaluationContext.key_value.key", "evaluationContext.key_value.value",
            "trackingEventDetails.key_value.key", "trackingEventDetails.key_value.value",
        ];
        Assert.Equal(names, columns.Keys);
        Assert.Equal(expectedRows, Enumerable.Range(0, expected.Length).Select(i => Row(names.Select(n => columns[n][i]))));

        List<object?[]> duckRows = ParquetReaders.QueryWithDuckDb(file, TrackingColumnsSql);
        Assert.Equal(expectedRows, duckRows.Select(r => Row(r)));
    }

    [Fact]
    public async Task FeatureSchema_HasGoFeatureFlagColumnsTypesAndMapStructure()
    {
        byte[] file = await EncodeAsync([.. ParquetSampleEvents.Features().Select(r => r.Event)]);

        Assert.Equal(
            [
                ("kind", "Required", "String"), ("contextKind", "Required", "String"), ("userKey", "Required", "String"),
                // Parquet.Net annotates INT64 as INT(64, signed) where go-feature-flag writes no annotation: the same values.
                ("creationDate", "Required", "Int"), ("key", "Required", "String"), ("variation", "Required", "String"),
                ("value", "Required", "String"), ("default", "Required", "None"), ("version", "Required", "String"),
                ("source", "Required", "String"),

                // Parquet.Net always declares a map OPTIONAL; FlagExport never writes a null map.
                ("metadata", "Optional", "Map"),
            ],
            ParquetReaders.TopLevelFieldsWithParquetSharp(file));

        Assert.Equal(
            [
                ("kind", "ByteArray", "String", 0, 0), ("contextKind", "ByteArray", "String", 0, 0),
                ("userKey", "ByteArray", "String", 0, 0), ("creationDate", "Int64", "Int", 0, 0),
                ("key", "ByteArray", "String", 0, 0), ("variation", "ByteArray", "String", 0, 0),
                ("value", "ByteArray", "String", 0, 0), ("default", "Boolean", "None", 0, 0),
                ("version", "ByteArray", "String", 0, 0), ("source", "ByteArray", "String", 0, 0),
                ("metadata.key_value.key", "ByteArray", "String", 2, 1),
                ("metadata.key_value.value", "ByteArray", "String", 2, 1),
            ],
            ParquetReaders.DescribeWithParquetSharp(file)
                .Select(c => (c.Path, c.PhysicalType, c.LogicalType, c.MaxDefinitionLevel, c.MaxRepetitionLevel)));

        List<object?[]> types = ParquetReaders.QueryWithDuckDb(file, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({file}))");
        Assert.Equal(
            [
                "kind VARCHAR", "contextKind VARCHAR", "userKey VARCHAR", "creationDate BIGINT", "key VARCHAR",
                "variation VARCHAR", "value VARCHAR", "default BOOLEAN", "version VARCHAR", "source VARCHAR",
                "metadata MAP(VARCHAR, VARCHAR)",
            ],
            types.Select(t => $"{t[0]} {t[1]}"));
    }

    [Fact]
    public async Task TrackingSchema_HasGoFeatureFlagColumnsAndTwoMaps()
    {
        byte[] file = await EncodeAsync([.. ParquetSampleEvents.Trackings().Select(r => r.Event)]);

        List<object?[]> types = ParquetReaders.QueryWithDuckDb(file, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({file}))");
        Assert.Equal(
            [
                "kind VARCHAR", "contextKind VARCHAR", "userKey VARCHAR", "creationDate BIGINT", "key VARCHAR",
                "evaluationContext MAP(VARCHAR, VARCHAR)", "trackingEventDetails MAP(VARCHAR, VARCHAR)",
            ],
            types.Select(t => $"{t[0]} {t[1]}"));
        Assert.All(
            ParquetReaders.DescribeWithParquetSharp(file).Where(c => c.MaxRepetitionLevel > 0),
            c => Assert.Equal(("ByteArray", "String", 2, 1), (c.PhysicalType, c.LogicalType, c.MaxDefinitionLevel, c.MaxRepetitionLevel)));
    }

    [Fact]
    public async Task MissingAndEmptyMetadata_AreEmptyMapsNotNull()
    {
        FeatureEvent[] events =
        [
            new() { UserKey = "none", Metadata = null },
            new() { UserKey = "empty", Metadata = new Dictionary<string, FlagValue>() },
            new() { UserKey = "one", Metadata = new Dictionary<string, FlagValue> { ["a"] = "b" } },
        ];

        byte[] file = await EncodeAsync(events);

        List<object?[]> rows = ParquetReaders.QueryWithDuckDb(file,
            "SELECT metadata IS NULL, cardinality(metadata) FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number");
        Assert.Equal([Row([false, 0UL]), Row([false, 0UL]), Row([false, 1UL])], rows.Select(r => Row(r)));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task StringColumns_AreDictionaryEncoded_AndCompressedWithTheCodecAsked(string codec)
    {
        byte[] file = await EncodeAsync(ParquetSampleEvents.Repetitive(2000), codec);

        // The codec name written in the footer, as DuckDB reads it. LZ4 is written as LZ4_RAW: see ParquetCompressionCodecs.
        string expectedCodec = codec == "LZ4" ? "LZ4_RAW" : codec;
        List<object?[]> chunks = ParquetReaders.QueryWithDuckDb(file,
            "SELECT path_in_schema, compression, encodings FROM parquet_metadata({file}) ORDER BY column_id");
        Assert.Equal(12, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(expectedCodec, c[1]));

        ParquetColumnInfo[] columns = ParquetReaders.DescribeWithParquetSharp(file);
        ParquetColumnInfo[] strings = [.. columns.Where(c => c.PhysicalType == "ByteArray")];
        Assert.Equal(10, strings.Length); // 8 top-level strings, the map's key and value
        Assert.All(strings, c => Assert.Contains("PlainDictionary", c.Encodings));
    }

    [Fact]
    public async Task MostlyDistinctStringColumn_FallsBackToPlain()
    {
        FeatureEvent[] events = [.. Enumerable.Range(0, 3000).Select(i => new FeatureEvent { UserKey = $"user-{i}", Key = "k" })];

        byte[] file = await EncodeAsync(events);

        ParquetColumnInfo[] columns = ParquetReaders.DescribeWithParquetSharp(file);
        Assert.DoesNotContain("PlainDictionary", columns.Single(c => c.Path == "userKey").Encodings);
        Assert.Contains("PlainDictionary", columns.Single(c => c.Path == "key").Encodings);
    }

    [Fact]
    public async Task RepetitiveBatch_ReadsBackRowForRow()
    {
        FeatureEvent[] events = ParquetSampleEvents.Repetitive(2000);

        byte[] file = await EncodeAsync(events, "ZSTD");

        List<object?[]> rows = ParquetReaders.QueryWithDuckDb(file, FeatureColumnsSql);
        Assert.Equal(events.Select(e => FeatureRow(new ExpectedFeatureRow(e, ValueJsonOfRepetitive(e.Value), MetadataOfRepetitive(e)))), rows.Select(r => Row(r)));
    }

    [Fact]
    public async Task Encoder_ReusedAcrossBatchesOfBothTypesAndSizes_WritesEachCorrectly()
    {
        using var encoder = new ParquetEncoder();
        ExpectedFeatureRow[] features = ParquetSampleEvents.Features();
        ExpectedTrackingRow[] trackings = ParquetSampleEvents.Trackings();

        byte[] big = await EncodeAsync(ParquetSampleEvents.Repetitive(500), encoder: encoder);
        byte[] tracking = await EncodeAsync([.. trackings.Select(r => r.Event)], encoder: encoder);
        byte[] small = await EncodeAsync([.. features.Select(r => r.Event)], encoder: encoder);

        Assert.Equal(500, ParquetReaders.QueryWithDuckDb(big, FeatureColumnsSql).Count);
        Assert.Equal(trackings.Select(TrackingRow), ParquetReaders.QueryWithDuckDb(tracking, TrackingColumnsSql).Select(r => Row(r)));
        Assert.Equal(features.Select(FeatureRow), ParquetReaders.QueryWithDuckDb(small, FeatureColumnsSql).Select(r => Row(r)));
    }

    [Fact]
    public async Task Dispose_ReturnsTheKeptBuffers_AndTheEncoderStaysUsable()
    {
        var encoder = new ParquetEncoder();
        ExpectedFeatureRow[] features = ParquetSampleEvents.Features();
        await EncodeAsync(ParquetSampleEvents.Repetitive(300), encoder: encoder);

        encoder.Dispose();
        byte[] file = await EncodeAsync([.. features.Select(r => r.Event)], encoder: encoder);
        encoder.Dispose();
        encoder.Dispose();

        Assert.Equal(features.Select(FeatureRow), ParquetReaders.QueryWithDuckDb(file, FeatureColumnsSql).Select(r => Row(r)));
    }

    [Fact]
    public async Task EncodeAsync_AfterOtherBytesInTheBuffer_WritesOffsetsRelativeToTheFile()
    {
        ExpectedFeatureRow[] expected = ParquetSampleEvents.Features();
        using var output = new PooledBufferWriter();
        output.Write("not parquet"u8);
        using var encoder = new ParquetEncoder();

        await encoder.EncodeAsync([.. expected.Select(r => r.Event)], output, TestContext.Current.CancellationToken);

        byte[] file = output.WrittenSpan["not parquet".Length..].ToArray();
        Assert.Equal(expected.Select(FeatureRow), ParquetReaders.QueryWithDuckDb(file, FeatureColumnsSql).Select(r => Row(r)));
    }

    [Fact]
    public async Task EmptyBatch_IsAValidFileWithTheFeatureSchemaAndNoRows()
    {
        byte[] file = await EncodeAsync([]);

        Assert.Equal("PAR1"u8.ToArray(), file[..4]);
        Assert.Equal("PAR1"u8.ToArray(), file[^4..]);
        List<object?[]> rows = ParquetReaders.QueryWithDuckDb(file, "SELECT count(*), count(metadata) FROM read_parquet({file})");
        Assert.Equal(Row([0L, 0L]), Row(rows.Single()));
    }

    [Fact]
    public async Task EmptyBatch_OfATrackingEncoder_HasTheTrackingSchema()
    {
        using var encoder = ParquetEncoder.FromOption(null, EventType.Tracking);
        using var output = new PooledBufferWriter();

        await encoder.EncodeAsync([], output, TestContext.Current.CancellationToken);

        List<object?[]> columns = ParquetReaders.QueryWithDuckDb(output.WrittenSpan.ToArray(),
            "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet({file}))");
        Assert.Equal(
            ["kind", "contextKind", "userKey", "creationDate", "key", "evaluationContext", "trackingEventDetails"],
            columns.Select(c => (string)c[0]!));
    }

    [Fact]
    public async Task FeatureEvents_GivenToATrackingEncoder_AreRejected()
    {
        using var encoder = new ParquetEncoder(Parquet.CompressionMethod.Snappy, EventType.Tracking);
        using var output = new PooledBufferWriter();

        var error = await Assert.ThrowsAsync<ArgumentException>(
            async () => await encoder.EncodeAsync([new FeatureEvent()], output, TestContext.Current.CancellationToken));

        Assert.Equal("This Parquet encoder writes Tracking events, but the event at index 0 is Feature. (Parameter 'events')", error.Message);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public async Task MixedBatch_IsRejected_NamingTheFirstOddEvent()
    {
        using var encoder = new ParquetEncoder();
        using var output = new PooledBufferWriter();
        ExportableEvent[] events = [new FeatureEvent(), new FeatureEvent(), new TrackingEvent()];

        var error = await Assert.ThrowsAsync<ArgumentException>(
            async () => await encoder.EncodeAsync(events, output, TestContext.Current.CancellationToken));

        Assert.Equal("events", error.ParamName);
        Assert.Contains("index 2 is Tracking", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public async Task CancelledToken_ThrowsBeforeWritingAnything()
    {
        using var encoder = new ParquetEncoder();
        using var output = new PooledBufferWriter();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await encoder.EncodeAsync(ParquetSampleEvents.Repetitive(10), output, cancelled.Token));

        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public async Task ConcurrentCallsOnOneEncoder_EachWriteTheirOwnBatchCorrectly()
    {
        using var encoder = new ParquetEncoder(Parquet.CompressionMethod.Zstd);
        ExpectedFeatureRow[] features = ParquetSampleEvents.Features();
        ExpectedTrackingRow[] trackings = ParquetSampleEvents.Trackings();

        Task<byte[]>[] calls =
        [
            .. Enumerable.Range(0, 8).Select(i => Task.Run(
                () => EncodeAsync(i % 2 == 0 ? [.. features.Select(r => r.Event)] : [.. trackings.Select(r => r.Event)], encoder: encoder),
                TestContext.Current.CancellationToken)),
        ];
        byte[][] files = await Task.WhenAll(calls);

        for (int i = 0; i < files.Length; i++)
        {
            List<object?[]> rows = ParquetReaders.QueryWithDuckDb(files[i], i % 2 == 0 ? FeatureColumnsSql : TrackingColumnsSql);
            Assert.Equal(i % 2 == 0 ? features.Select(FeatureRow) : trackings.Select(TrackingRow), rows.Select(r => Row(r)));
        }
    }

    [Fact]
    public async Task HundredThousandEvents_EncodeIntoOneRowGroup()
    {
        FeatureEvent[] events = ParquetSampleEvents.Repetitive(100_000);
        using var encoder = new ParquetEncoder();
        using var output = new PooledBufferWriter();

        await encoder.EncodeAsync(events, output, TestContext.Current.CancellationToken);
        output.Clear();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await encoder.EncodeAsync(events, output, TestContext.Current.CancellationToken);
        watch.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        // Information only: no timing or allocation assertion on a shared machine.
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"100,000 events, SNAPPY: {output.WrittenCount:N0} bytes in {watch.ElapsedMilliseconds} ms, {allocated:N0} bytes allocated on this thread (second batch).");
        byte[] file = output.WrittenSpan.ToArray();
        List<object?[]> summary = ParquetReaders.QueryWithDuckDb(file,
            "SELECT count(*), count(DISTINCT userKey), CAST(sum(cardinality(metadata)) AS BIGINT), min(creationDate), max(creationDate) FROM read_parquet({file})");
        Assert.Equal(Row([100_000L, 50L, 133_334L, 1617970547L, 1617970547L + 999]), Row(summary.Single()));
        Assert.Single(ParquetReaders.QueryWithDuckDb(file, "SELECT row_group_id FROM parquet_metadata({file}) WHERE column_id = 0"));
    }

    [Theory]
    [InlineData("SNAPPY")]
    [InlineData("ZSTD")]
    public async Task BatchLargerThanARowGroup_IsSeveralRowGroupsInBatchOrder_ReadBackByBothReaders(string codec)
    {
        FeatureEvent[] events = ParquetSampleEvents.Repetitive(2_500);
        using var encoder = new ParquetEncoder(ParquetCompressionCodecs.Parse(codec), rowGroupSize: 1_000);

        byte[] file = await EncodeAsync(events, encoder: encoder);

        ParquetChunkInfo[] chunks = ParquetReaders.DescribeRowGroupsWithParquetSharp(file);
        Assert.Equal([1_000L, 1_000L, 500L], chunks.GroupBy(c => c.RowGroup).Select(g => g.First().Rows));
        string[] expected = [.. events.Select(e => FeatureRow(new ExpectedFeatureRow(e, ValueJsonOfRepetitive(e.Value), MetadataOfRepetitive(e))))];
        Dictionary<string, object[]> columns = ParquetReaders.ReadWithParquetSharp(file, out long rowCount, out int rowGroups);
        Assert.Equal((2_500L, 3), (rowCount, rowGroups));
        Assert.Equal(expected, Enumerable.Range(0, events.Length).Select(i => Row(columns.Keys.Select(n => columns[n][i]))));
        Assert.Equal(expected, ParquetReaders.QueryWithDuckDb(file, FeatureColumnsSql).Select(r => Row(r)));
    }

    [Fact]
    public async Task EachRowGroup_HasItsOwnDictionariesAndMinMaxStatistics()
    {
        FeatureEvent[] events = ParquetSampleEvents.Repetitive(2_500);
        using var encoder = new ParquetEncoder(rowGroupSize: 1_000);

        byte[] file = await EncodeAsync(events, encoder: encoder);

        FeatureEvent[][] groups = [.. events.Chunk(1_000)];
        ParquetChunkInfo[] chunks = ParquetReaders.DescribeRowGroupsWithParquetSharp(file);
        Assert.Equal(3 * 12, chunks.Length);

        Assert.All(chunks.Where(c => c.Path is not ("default" or "creationDate")), c => Assert.Contains("PlainDictionary", c.Encodings));
        Assert.All(chunks.Where(c => c.Path == "creationDate"), c => Assert.Contains("DeltaBinaryPacked", c.Encodings));

        // ParquetSharp (Arrow) uses the INT64 statistics; it ignores string ones in a file without column orders, as
        // docs/parquet.md explains.
        Assert.Equal(
            groups.Select(g => ((long?)g.Min(e => e.CreationDate), (long?)g.Max(e => e.CreationDate))),
            chunks.Where(c => c.Path == "creationDate").Select(c => (c.Int64Min, c.Int64Max)));

        // DuckDB reads every chunk's statistics; Parquet.Net writes none for a BOOLEAN column.
        List<object?[]> missing = ParquetReaders.QueryWithDuckDb(file,
            "SELECT row_group_id, path_in_schema FROM parquet_metadata({file}) WHERE (stats_min_value IS NULL OR stats_max_value IS NULL) AND path_in_schema <> 'default'");
        Assert.Empty(missing);

        // User keys are ASCII here, so ordinal order is Parquet's byte order.
        List<object?[]> userKeys = ParquetReaders.QueryWithDuckDb(file,
            "SELECT row_group_id, row_group_num_rows, stats_min_value, stats_max_value FROM parquet_metadata({file}) WHERE path_in_schema = 'userKey' ORDER BY row_group_id");
        Assert.Equal(
            groups.Select((g, i) => Row([(long)i, (long)g.Length, g.Select(e => e.UserKey).Min(StringComparer.Ordinal), g.Select(e => e.UserKey).Max(StringComparer.Ordinal)])),
            userKeys.Select(r => Row(r)));
        List<object?[]> pruned = ParquetReaders.QueryWithDuckDb(file,
            $"SELECT count(*) FROM read_parquet({{file}}) WHERE creationDate > {groups[1].Max(e => e.CreationDate)}");
        Assert.Equal(events.Count(e => e.CreationDate > groups[1].Max(x => x.CreationDate)), Convert.ToInt32(pruned.Single()[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void RowGroupSize_BelowOne_IsRefusedNamingTheValue(int size)
    {
        var error = Assert.Throws<ArgumentException>(() => new ParquetEncoder(rowGroupSize: size));

        Assert.Equal("rowGroupSize", error.ParamName);
        Assert.Contains($"got '{size}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserKeysRepeatedAcrossTheRowGroup_AreDictionaryEncoded_ThoughTheFirstThousandsAreDistinct()
    {
        // 2,000 users seen three times each, in turn: the first 2,000 rows are all distinct, the row group a third.
        FeatureEvent[] events = [.. Enumerable.Range(0, 6_000).Select(i => new FeatureEvent { UserKey = $"user-{i % 2_000}", Key = "k" })];

        byte[] file = await EncodeAsync(events);

        Assert.Contains("PlainDictionary", ParquetReaders.DescribeWithParquetSharp(file).Single(c => c.Path == "userKey").Encodings);
        List<object?[]> rows = ParquetReaders.QueryWithDuckDb(file, "SELECT userKey FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number");
        Assert.Equal(events.Select(e => e.UserKey), rows.Select(r => (string?)r[0]));
    }

    [Fact]
    public async Task CreationDates_AreDeltaEncoded_AndReadBackExactly_WhenTheirDifferencesOverflow()
    {
        long[] dates = [long.MinValue, long.MaxValue, 0, -1, long.MinValue, 1_617_970_547, long.MaxValue, long.MaxValue - 1];
        FeatureEvent[] events = [.. dates.Select(d => new FeatureEvent { UserKey = "u", Key = "k", CreationDate = d })];

        byte[] file = await EncodeAsync(events, "ZSTD");

        Assert.Contains("DeltaBinaryPacked", ParquetReaders.DescribeWithParquetSharp(file).Single(c => c.Path == "creationDate").Encodings);
        Assert.Equal(dates.Cast<object>(), ParquetReaders.ReadWithParquetSharp(file, out _, out _)["creationDate"]);
        List<object?[]> rows = ParquetReaders.QueryWithDuckDb(file, "SELECT creationDate FROM read_parquet({file}, file_row_number = true) ORDER BY file_row_number");
        Assert.Equal(dates.Cast<object?>(), rows.Select(r => r[0]));
    }

    [Fact]
    public async Task BuildingTheColumns_AllocatesNothingPerEvent()
    {
        // Parquet.Net allocates per row (docs/parquet.md says where), so EncodeAsync as a whole cannot be held
        // to a bound: the encoder's own work is measured alone, with a sink that discards the columns. A few calls
        // allocate a little whatever the batch size (async state machines are classes in a Debug build), so the claim
        // checked is that the allocation does not grow with the batch (one allocation per event would add 2.4 MB).
        using var encoder = new ParquetEncoder();
        var sink = new DiscardingSink();
        (long small, _) = await BuildColumnsAsync(encoder, sink, 1_000);
        (long large, (ExportableEvent[] features, ExportableEvent[] trackings)) = await BuildColumnsAsync(encoder, sink, 100_000);

        Assert.True(large - small < 256 && large < 4096,
            $"Building the columns of 2 x 1,000 events allocated {small} bytes, of 2 x 100,000 events {large} bytes.");
        Assert.Equal(
            [.. ParquetSchemas.Feature.GetDataFields(), .. ParquetSchemas.Tracking.GetDataFields()],
            sink.Fields.Take(sink.Count));
        long mapEntries = features.Sum(e => ((FeatureEvent)e).Metadata?.Count ?? 0)
            + trackings.Sum(e => (((TrackingEvent)e).EvaluationContext?.Count ?? 0) + (((TrackingEvent)e).TrackingEventDetails?.Count ?? 0));
        Assert.Equal((10 * 100_000) + (5 * 100_000) + (2 * mapEntries), sink.Values); // a map's key and value columns hold its entries
    }

    /// <summary>Builds the columns of <paramref name="count"/> feature then tracking events, warm; returns the bytes that allocated.</summary>
    private static async Task<(long Allocated, (ExportableEvent[] Features, ExportableEvent[] Trackings) Batches)> BuildColumnsAsync(
        ParquetEncoder encoder, DiscardingSink sink, int count)
    {
        ExportableEvent[] features = ParquetSampleEvents.Repetitive(count);
        ExpectedTrackingRow[] trackingRows = ParquetSampleEvents.Trackings();
        ExportableEvent[] trackings = [.. Enumerable.Range(0, count).Select(i => trackingRows[i % trackingRows.Length].Event)];
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        sink.Reset();
        await encoder.WriteColumnsAsync(EventType.Feature, features, sink, cancellationToken); // the scratch buffers grow
        await encoder.WriteColumnsAsync(EventType.Tracking, trackings, sink, cancellationToken);

        long allocated = await ThreadAllocations.LeastOfThreeAsync(async () =>
        {
            sink.Reset();
            await encoder.WriteColumnsAsync(EventType.Feature, features, sink, cancellationToken);
            await encoder.WriteColumnsAsync(EventType.Tracking, trackings, sink, cancellationToken);
        });
        return (allocated, (features, trackings));
    }

    private static async Task<byte[]> EncodeAsync(ExportableEvent[] events, string? codec = null, ParquetEncoder? encoder = null)
    {
        using var output = new PooledBufferWriter();
        using ParquetEncoder owned = ParquetEncoder.FromOption(codec);
        await (encoder ?? owned).EncodeAsync(events, output, TestContext.Current.CancellationToken);
        return output.WrittenSpan.ToArray();
    }

    private static string FeatureRow(ExpectedFeatureRow row)
    {
        FeatureEvent e = row.Event;
        return Row(
        [
            e.Kind, e.ContextKind, e.UserKey, e.CreationDate, e.Key, e.Variation, row.Value, e.Default, e.Version, e.Source,
            row.Metadata.Select(p => p.Key).ToArray(), row.Metadata.Select(p => p.Value).ToArray(),
        ]);
    }

    private static string TrackingRow(ExpectedTrackingRow row)
    {
        TrackingEvent e = row.Event;
        return Row(
        [
            e.Kind, e.ContextKind, e.UserKey, e.CreationDate, e.Key,
            row.EvaluationContext.Select(p => p.Key).ToArray(), row.EvaluationContext.Select(p => p.Value).ToArray(),
            row.TrackingEventDetails.Select(p => p.Key).ToArray(), row.TrackingEventDetails.Select(p => p.Value).ToArray(),
        ]);
    }

    /// <summary>A row as JSON, so that a mismatch shows the whole row; lists from either reader become arrays.</summary>
    private static string Row(IEnumerable<object?> values) =>
        JsonSerializer.Serialize(values.Select(v => v switch
        {
            System.Collections.IList list => list.Cast<object?>().ToArray(),
            _ => v,
        }));

    private static string ValueJsonOfRepetitive(FlagValue value) => value.Kind switch
    {
        FlagValueKind.String => $"\"{value.AsString()}\"",
        FlagValueKind.Object => """{"color":"red"}""",
        FlagValueKind.Boolean => value.AsBoolean() ? "true" : "false",
        _ => value.ToString(),
    };

    private static KeyValuePair<string, string>[] MetadataOfRepetitive(FeatureEvent e) =>
        [.. e.MetadataObject!.Select(p => KeyValuePair.Create(p.Key, p.Value.Kind == FlagValueKind.String ? p.Value.AsString() : p.Value.ToString()))];

    /// <summary>Keeps only which columns came, in order, and how many values: nothing allocated per call.</summary>
    private sealed class DiscardingSink : IParquetColumnSink
    {
        public Parquet.Schema.DataField[] Fields { get; } = new Parquet.Schema.DataField[32];

        public int Count { get; private set; }

        public long Values { get; private set; }

        public Task WriteAsync<T>(Parquet.Schema.DataField field, ReadOnlyMemory<T> values, ReadOnlyMemory<int>? definitionLevels, ReadOnlyMemory<int>? repetitionLevels, CancellationToken cancellationToken)
            where T : struct
        {
            Fields[Count++] = field;
            Values += values.Length;
            return Task.CompletedTask;
        }

        public void Reset() => (Count, Values) = (0, 0);
    }
}
