using FlagExport.Tests.Formats;

namespace FlagExport.Tests.Exporters;

/// <summary>How <see cref="BatchEncoding.EncodePartsAsync"/> cuts a batch, with and without <see cref="ExportFileOptions.MaxBatchBytes"/>.</summary>
public sealed class ExportFileEncoderPartsTests
{
    private const int Max = 256 * 1024;

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1023)]
    public void MaxBatchBytes_BelowOneKiB_IsRefusedNamingTheOptionAndTheValue(int value)
    {
        var error = Assert.Throws<ArgumentException>(() => ExportFileEncoder.Create(new FileExporterOptions { MaxBatchBytes = value }, EventType.Feature));

        Assert.Equal("MaxBatchBytes", error.ParamName);
        Assert.Equal(
            $"MaxBatchBytes must be at least 1024 (1 KiB, the most bytes in one file or object), or unset for no limit; got '{value}'.",
            OptionErrors.MessageOf(error));
    }

    [Theory]
    [InlineData("JSON")]
    [InlineData("Parquet")]
    public async Task EncodePartsAsync_WithoutMaxBatchBytes_IsOnePartHoldingTheBatchAndEncodeAsyncsBytes(string format)
    {
        using var encoder = ExportFileEncoder.Create(new FileExporterOptions { Format = format }, EventType.Feature);
        FeatureEvent[] events = PartTestEvents.Create(3000);
        using PooledBufferWriter whole = await encoder.EncodeAsync(events, TestContext.Current.CancellationToken);

        List<EncodedPart> parts = await PartsAsync(encoder, events);

        EncodedPart part = Assert.Single(parts);
        Assert.Equal(0, part.Index);
        Assert.Same(events, part.Events);
        Assert.Equal(whole.WrittenSpan.ToArray(), part.Content.WrittenSpan.ToArray());
        part.Dispose();
    }

    [Theory]
    [InlineData("JSON", 7_000)]
    [InlineData("CSV", 15_000)]
    public async Task EncodePartsAsync_TextFormats_PartsWithinNinetyToHundredPercentOfMax_ConcatenateToTheWholeBatch(string format, int count)
    {
        using var encoder = ExportFileEncoder.Create(new FileExporterOptions { Format = format, MaxBatchBytes = Max }, EventType.Feature);
        FeatureEvent[] events = PartTestEvents.Create(count);
        using PooledBufferWriter whole = await encoder.EncodeAsync(events, TestContext.Current.CancellationToken);
        Assert.True(whole.WrittenCount > 4 * Max, $"the batch is {whole.WrittenCount} bytes: too small to show parts");

        List<EncodedPart> parts = await PartsAsync(encoder, events);

        AssertSizes(parts);
        Assert.Equal(whole.WrittenSpan.ToArray(), parts.SelectMany(p => p.Content.WrittenSpan.ToArray()).ToArray());
        AssertSlices(parts, events);
        parts.ForEach(p => p.Dispose());
    }

    [Theory]
    [InlineData("SNAPPY", 60_000)]
    [InlineData("ZSTD", 150_000)]
    public async Task EncodePartsAsync_Parquet_FilesWithinNinetyToHundredPercentOfMax_ReadBackAsTheBatchInOrder(string codec, int count)
    {
        using var encoder = ExportFileEncoder.Create(
            new FileExporterOptions { Format = "Parquet", ParquetCompressionCodec = codec, MaxBatchBytes = Max }, EventType.Feature);
        FeatureEvent[] events = PartTestEvents.Create(count);

        List<EncodedPart> parts = await PartsAsync(encoder, events);

        Assert.True(parts.Count >= 3, $"{parts.Count} parts: too few to show the bounds");
        AssertSizes(parts);
        var userKeys = new List<object>();
        foreach (EncodedPart part in parts)
        {
            Dictionary<string, object[]> columns = ParquetReaders.ReadWithParquetSharp(part.Content.WrittenSpan.ToArray(), out long rows, out _);
            Assert.Equal(part.Events.Count, rows);
            userKeys.AddRange(columns["userKey"]);
        }

        Assert.Equal(events.Select(e => (object)e.UserKey), userKeys);
        AssertSlices(parts, events);
        parts.ForEach(p => p.Dispose());
    }

    [Fact]
    public async Task EncodePartsAsync_SameEventsTwiceWithFreshEncoders_GivesTheSameParts()
    {
        var options = new FileExporterOptions { Format = "Parquet", MaxBatchBytes = 64 * 1024 };
        FeatureEvent[] events = PartTestEvents.Create(30_000);
        using var first = ExportFileEncoder.Create(options, EventType.Feature);
        using var second = ExportFileEncoder.Create(options, EventType.Feature);
        using PooledBufferWriter warmUp = await second.EncodeAsync(PartTestEvents.Create(10), TestContext.Current.CancellationToken); // another batch before: no influence

        List<EncodedPart> a = await PartsAsync(first, events);
        List<EncodedPart> b = await PartsAsync(second, events);

        Assert.True(a.Count > 1);
        Assert.Equal(a.Select(p => p.Events.Count), b.Select(p => p.Events.Count));
        Assert.Equal(a.Select(p => p.Content.WrittenSpan.ToArray()), b.Select(p => p.Content.WrittenSpan.ToArray()));
        a.Concat(b).ToList().ForEach(p => p.Dispose());
    }

    [Fact]
    public async Task EncodePartsAsync_AnEventLargerThanMax_IsAPartOfItsOwn()
    {
        using var encoder = ExportFileEncoder.Create(new FileExporterOptions { MaxBatchBytes = 1024 }, EventType.Feature);
        FeatureEvent[] small = PartTestEvents.Create(3);
        var large = new FeatureEvent { UserKey = new string('x', 3000), Key = "big", CreationDate = 1 };
        ExportableEvent[] events = [small[0], large, small[1], small[2]];

        List<EncodedPart> parts = await PartsAsync(encoder, events);

        Assert.Equal([1, 1, 2], parts.Select(p => p.Events.Count));
        Assert.Same(large, parts[1].Events[0]);
        Assert.True(parts[1].Content.WrittenCount > 1024);
        Assert.All([parts[0], parts[2]], p => Assert.True(p.Content.WrittenCount <= 1024));
        parts.ForEach(p => p.Dispose());
    }

    // The parts of a batch's first attempt: a fresh batch, so every part is cut anew.
    private static async Task<List<EncodedPart>> PartsAsync(ExportFileEncoder encoder, IReadOnlyList<ExportableEvent> events)
    {
        var parts = new List<EncodedPart>();
        using BatchEncoding encoding = await encoder.BeginAsync(new ExportBatch(events), DateTimeOffset.UnixEpoch, null, TestContext.Current.CancellationToken);
        await foreach (EncodedPart part in encoding.EncodePartsAsync("", events, isWritten: null, TestContext.Current.CancellationToken))
        {
            parts.Add(part);
        }

        return parts;
    }

    /// <summary>Each part at most <see cref="Max"/> bytes, each but the last at least 90% of it; indexes 0, 1, 2…</summary>
    internal static void AssertSizes(IReadOnlyList<EncodedPart> parts, int max = Max)
    {
        Assert.True(parts.Count > 1, "one part: the batch was not cut");
        Assert.Equal(Enumerable.Range(0, parts.Count), parts.Select(p => p.Index));
        Assert.All(parts, p => Assert.True(p.Content.WrittenCount <= max, $"part {p.Index} is {p.Content.WrittenCount} bytes, above {max}"));
        Assert.All(parts.SkipLast(1), p => Assert.True(p.Content.WrittenCount * 10L >= max * 9L, $"part {p.Index} is {p.Content.WrittenCount} bytes, below 90% of {max}"));
    }

    /// <summary>The parts' events are the batch's, consecutive and in order.</summary>
    private static void AssertSlices(IReadOnlyList<EncodedPart> parts, IReadOnlyList<ExportableEvent> events) =>
        Assert.Equal(events, parts.SelectMany(p => p.Events));
}
