using System.Buffers;
using System.Text;
using FlagExport.Buffers;
using FlagExport.Durability;
using FlagExport.Formats;
using FlagExport.Tests.Formats;
using FsCheck.Xunit;

namespace FlagExport.Tests.Durability;

public sealed class EventRecordCodecTests
{
    /// <summary>The sample events of the encoder tests plus the edges of every field.</summary>
    public static TheoryData<int> SampleIndexes() => [.. Enumerable.Range(0, Samples().Length)];

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Read_WhatWriteWrote_GivesTheSameJsonLineAndFields(int index)
    {
        ExportableEvent original = Samples()[index];

        ExportableEvent copy = RoundTrip(original);

        Assert.Equal(JsonLine(original), JsonLine(copy));
        AssertSameFields(original, copy);
    }

    [Fact]
    public void TagOf_EachEventType_IsItsTag()
    {
        Assert.Equal(EventRecordCodec.FeatureTag, EventRecordCodec.TagOf(new FeatureEvent()));
        Assert.Equal(EventRecordCodec.TrackingTag, EventRecordCodec.TagOf(new TrackingEvent()));
    }

    [Fact]
    public void Write_AnyEvent_StartsWithTheFormatVersion()
    {
        Assert.Equal(EventRecordCodec.FormatVersion, Payload(new TrackingEvent())[0]);
        Assert.Equal(1, EventRecordCodec.FormatVersion);
    }

    [Fact]
    public void RoundTrip_NullAndEmptyMaps_StayApart()
    {
        var feature = (FeatureEvent)RoundTrip(new FeatureEvent { Metadata = FlagObject.Empty });
        var noMetadata = (FeatureEvent)RoundTrip(new FeatureEvent { Metadata = null });
        var tracking = (TrackingEvent)RoundTrip(new TrackingEvent { EvaluationContext = FlagObject.Empty, TrackingEventDetails = null });
        var swapped = (TrackingEvent)RoundTrip(new TrackingEvent { EvaluationContext = null, TrackingEventDetails = new Dictionary<string, FlagValue>() });

        Assert.NotNull(feature.Metadata);
        Assert.Empty(feature.Metadata);
        Assert.Null(noMetadata.Metadata);
        Assert.NotNull(tracking.EvaluationContext);
        Assert.Empty(tracking.EvaluationContext);
        Assert.Null(tracking.TrackingEventDetails);
        Assert.Null(swapped.EvaluationContext);
        Assert.NotNull(swapped.TrackingEventDetails);
        Assert.Empty(swapped.TrackingEventDetails);
    }

    [Fact]
    public void RoundTrip_LoneSurrogates_KeptExactlySoTheJsonIsTheSame()
    {
        // Encoders write a lone surrogate as \ufffd, a real U+FFFD raw: replacing it here would change the output.
        string text = "a\uD800b\uDC00\uDBFF\uFFFD😀\uDFFF\uD83D";
        var original = new FeatureEvent
        {
            UserKey = text, Value = text,
            Metadata = new Dictionary<string, FlagValue> { ["\uD800"] = 1, ["\uDC00"] = 2, ["\uFFFD"] = 3, ["\uFFFF"] = 4 },
        };

        var copy = (FeatureEvent)RoundTrip(original);

        Assert.Equal(text, copy.UserKey, StringComparer.Ordinal);
        Assert.Equal(text, copy.Value.AsString(), StringComparer.Ordinal);
        Assert.Equal(original.MetadataObject!.Keys, copy.MetadataObject!.Keys, StringComparer.Ordinal);
        Assert.Equal(JsonLine(original), JsonLine(copy));
    }

    [Fact]
    public void Write_LoneSurrogate_IsItsThreeByteCodePoint()
    {
        byte[] payload = Payload(new TrackingEvent { Kind = "", ContextKind = "", UserKey = "\uD800" });

        Assert.Equal(new byte[] { 1, 0, 0, 3, 0xED, 0xA0, 0x80 }, payload[..7]);
    }

    [Fact]
    public void RoundTrip_LongNonAsciiStrings_KeepTheirLength()
    {
        // Past 42 chars the length prefix is counted first: prefixes of one, two and three bytes, with lone surrogates.
        foreach (int length in new[] { 42, 43, 127, 128, 5000, 16383, 16384, 100_000 })
        {
            string text = string.Concat(Enumerable.Range(0, length).Select(i => "aé日😀\uD800"[i % 6]));
            var copy = (FeatureEvent)RoundTrip(new FeatureEvent { Key = text, Value = text });

            Assert.Equal(text, copy.Key, StringComparer.Ordinal);
            Assert.Equal(text, copy.Value.AsString(), StringComparer.Ordinal);
        }
    }

    [Fact]
    public void RoundTrip_Doubles_KeepTheirBits()
    {
        foreach (double number in new[] { 0.0, -0.0, double.Epsilon, -double.MaxValue, 1e21, 0.1, 3.0 })
        {
            var copy = (FeatureEvent)RoundTrip(new FeatureEvent { Value = number });

            Assert.Equal(FlagValueKind.Double, copy.Value.Kind);
            Assert.Equal(BitConverter.DoubleToInt64Bits(number), BitConverter.DoubleToInt64Bits(copy.Value.AsDouble()));
        }
    }

    [Fact]
    public void RoundTrip_NestingAtTheBound_IsKept()
    {
        FlagValue value = Nested(EventRecordCodec.MaxDepth, FlagValue.FromInteger(7));
        var metadata = FlagObject.Create([new("deep", Nested(EventRecordCodec.MaxDepth - 1, "leaf"))]);
        var original = new FeatureEvent { Value = value, Metadata = metadata };

        var copy = (FeatureEvent)RoundTrip(original);

        Assert.Equal(value, copy.Value);
        Assert.Equal(metadata, copy.MetadataObject);
        Assert.Equal(JsonLine(original), JsonLine(copy));
    }

    [Fact]
    public void Write_NestingBeyondTheBound_IsRefusedWithoutWriting()
    {
        using var buffer = new PooledBufferWriter();
        var deepValue = new FeatureEvent { Value = Nested(EventRecordCodec.MaxDepth + 1, 1) };
        var deepMap = new TrackingEvent { TrackingEventDetails = FlagObject.Create([new("deep", Nested(EventRecordCodec.MaxDepth, 1))]) };

        ArgumentException valueError = Assert.Throws<ArgumentException>(() => EventRecordCodec.Write(deepValue, buffer));
        ArgumentException mapError = Assert.Throws<ArgumentException>(() => EventRecordCodec.Write(deepMap, buffer));

        Assert.Contains("Value", valueError.Message, StringComparison.Ordinal);
        Assert.Contains("TrackingEventDetails", mapError.Message, StringComparison.Ordinal);
        Assert.Equal(0, buffer.WrittenCount);
    }

    [Fact]
    public void Read_NestingBeyondTheBound_Throws()
    {
        byte[] arrays = [.. Enumerable.Repeat<byte[]>([6, 1], EventRecordCodec.MaxDepth + 1).SelectMany(b => b), 0];
        byte[] objects = [.. Enumerable.Repeat<byte[]>([7, 1, 1, (byte)'k'], EventRecordCodec.MaxDepth + 1).SelectMany(b => b), 0];
        byte[] atBound = [.. Enumerable.Repeat<byte[]>([6, 1], EventRecordCodec.MaxDepth).SelectMany(b => b), 0];

        Assert.Contains("deeper", ReadError(FeaturePayload(arrays)), StringComparison.Ordinal);
        Assert.Contains("deeper", ReadError(FeaturePayload(objects)), StringComparison.Ordinal);
        Assert.Equal(EventRecordCodec.MaxDepth, Depth(((FeatureEvent)EventRecordCodec.Read(1, FeaturePayload(atBound))).Value));
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Read_EveryTruncation_ThrowsInvalidData(int index)
    {
        ExportableEvent original = Samples()[index];
        byte[] payload = Payload(original);

        for (int length = 0; length < payload.Length; length++)
        {
            byte[] prefix = payload[..length];
            Assert.Throws<InvalidDataException>(() => EventRecordCodec.Read(EventRecordCodec.TagOf(original), prefix));
        }
    }

    [Fact]
    public void Read_BadEnvelope_ThrowsNamingWhatIsWrong()
    {
        byte[] valid = Payload(new FeatureEvent { Key = "k" });

        Assert.Contains("tag 3", ReadError(valid, tag: 3), StringComparison.Ordinal);
        Assert.Contains("tag 0", ReadError(valid, tag: 0), StringComparison.Ordinal);
        Assert.Contains("version 2", ReadError([2, .. valid[1..]]), StringComparison.Ordinal);
        Assert.Contains("1 bytes follow", ReadError([.. valid, 0]), StringComparison.Ordinal);
        Assert.Contains("truncated", ReadError([]), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BadValues_ThrowNamingWhatIsWrong()
    {
        Assert.Contains("unknown value kind 8", ReadError(FeaturePayload([8])), StringComparison.Ordinal);
        Assert.Contains("not finite", ReadError(FeaturePayload([4, .. BitConverter.GetBytes(double.NaN)])), StringComparison.Ordinal);
        Assert.Contains("not finite", ReadError(FeaturePayload([4, .. BitConverter.GetBytes(double.PositiveInfinity)])), StringComparison.Ordinal);
        Assert.Contains("out of order", ReadError(FeaturePayload([7, 2, 1, (byte)'b', 0, 1, (byte)'a', 0])), StringComparison.Ordinal);
        Assert.Contains("out of order", ReadError(FeaturePayload([7, 2, 1, (byte)'a', 0, 1, (byte)'a', 0])), StringComparison.Ordinal);
        Assert.Contains("longer than needed", ReadError(FeaturePayload([3, 0x80, 0x00])), StringComparison.Ordinal);
        Assert.Contains("64 bits", ReadError(FeaturePayload([3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])), StringComparison.Ordinal);
        Assert.Contains("not UTF-8", ReadError(FeaturePayload([5, 1, 0xFF])), StringComparison.Ordinal);
        Assert.Contains("not UTF-8", ReadError(FeaturePayload([5, 2, 0xC0, 0x80])), StringComparison.Ordinal);
        Assert.Contains("not UTF-8", ReadError(FeaturePayload([5, 2, 0xE2, 0x82])), StringComparison.Ordinal);
        Assert.Contains("two 3-byte", ReadError(FeaturePayload([5, 6, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80])), StringComparison.Ordinal);
        Assert.Contains("not 0 or 1", ReadError(FeaturePayload([0], isDefault: 2)), StringComparison.Ordinal);
        Assert.Contains("not null or object", ReadError(FeaturePayload([0], metadata: [6, 0])), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BogusLengths_ThrowWithoutAllocatingForThem()
    {
        byte[] hugeString = FeaturePayload([5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, (byte)'x']);
        byte[] hugeArray = FeaturePayload([6, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0]);
        byte[] hugeObject = FeaturePayload([7, 0x80, 0x80, 0x80, 0x80, 0x01]);
        byte[] arrayOfTwoInOneByte = FeaturePayload([6, 12]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        string[] errors = [ReadError(hugeString), ReadError(hugeArray), ReadError(hugeObject), ReadError(arrayOfTwoInOneByte)];
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.All(errors, error => Assert.Contains("claims a length", error, StringComparison.Ordinal));
        Assert.True(allocated < 64 * 1024, $"Reading bogus lengths allocated {allocated} bytes.");
    }

    [Fact]
    public void WriteMetadata_ThenAnEventThatSharesIt_ReadsBackTheGivenObject_AndTheSameBytesAgain()
    {
        FlagObject meta = FlagObject.Create([new("blob", FlagValue.FromString(new string('m', 1000))), new("n", FlagValue.FromInteger(1))]);
        var e = new FeatureEvent { Key = "k", UserKey = "u", Variation = "v", Value = FlagValue.FromInteger(3), Metadata = meta };
        var metadataPayload = new ArrayBufferWriter<byte>();
        EventRecordCodec.WriteMetadata(meta, metadataPayload);
        var shared = new ArrayBufferWriter<byte>();
        EventRecordCodec.Write(e, shared, sharedMetadata: true);

        FlagObject readMeta = EventRecordCodec.ReadMetadata(metadataPayload.WrittenSpan);
        var read = (FeatureEvent)EventRecordCodec.Read(EventRecordCodec.FeatureTag, shared.WrittenSpan, readMeta);

        Assert.Equal(meta, readMeta);
        Assert.Same(readMeta, read.MetadataObject);
        Assert.True(shared.WrittenCount < 100, "the event's payload holds a reference, not the metadata");
        var again = new ArrayBufferWriter<byte>();
        EventRecordCodec.Write(read, again, sharedMetadata: true);
        Assert.Equal(shared.WrittenSpan.ToArray(), again.WrittenSpan.ToArray());
    }

    [Fact]
    public void Read_SharedMetadataWithoutAMetadataRecord_Throws()
    {
        var shared = new ArrayBufferWriter<byte>();
        EventRecordCodec.Write(new FeatureEvent { Metadata = FlagObject.Create([new("a", FlagValue.FromInteger(1))]) }, shared, sharedMetadata: true);

        string message = Assert.Throws<InvalidDataException>(() => EventRecordCodec.Read(EventRecordCodec.FeatureTag, shared.WrittenSpan)).Message;

        Assert.Contains("no metadata record precedes it", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMetadata_NullOrTrailingBytes_Throws()
    {
        _ = Assert.Throws<InvalidDataException>(() => EventRecordCodec.ReadMetadata([1, 0]));
        _ = Assert.Throws<InvalidDataException>(() => EventRecordCodec.ReadMetadata([1, 7, 0, 0]));
        Assert.Same(FlagObject.Empty, EventRecordCodec.ReadMetadata([1, 7, 0]));
    }

    [Fact]
    public void Read_FeaturePayloadUnderTheTrackingTag_Throws()
    {
        byte[] payload = Payload(new FeatureEvent { Key = "k", Variation = "on", Value = true });

        Assert.Throws<InvalidDataException>(() => EventRecordCodec.Read(EventRecordCodec.TrackingTag, payload));
    }

    [Fact(Timeout = 120_000)]
    public async Task Read_RandomlyCorruptedPayloads_ThrowInvalidDataOrGiveAnEventThatReencodesTheSame()
    {
        await Task.Run(() =>
        {
            var random = new Random(20240611);
            ExportableEvent[] samples = Samples();
            int accepted = 0;
            for (int round = 0; round < 40_000; round++)
            {
                ExportableEvent original = samples[round % samples.Length];
                byte tag = EventRecordCodec.TagOf(original);
                byte[] payload = Payload(original);
                if (round % 10 == 0)
                {
                    random.NextBytes(payload); // wholly random bytes, of a plausible length
                }

                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    int at = random.Next(payload.Length);
                    payload[at] = random.Next(2) == 0 ? (byte)(payload[at] ^ (1 << random.Next(8))) : (byte)random.Next(256);
                }

                ExportableEvent read;
                try
                {
                    read = EventRecordCodec.Read(tag, payload);
                }
                catch (InvalidDataException)
                {
                    continue;
                }

                // Canonical: what is accepted is exactly what Write makes of the event read.
                Assert.Equal(payload, Payload(read));
                accepted++;
            }

            Assert.InRange(accepted, 1, 39_999);
        }, TestContext.Current.CancellationToken);
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(EventArbitraries)])]
    public void RoundTrip_ArbitraryEvents_GiveIdenticalJsonAndPayloadBytes(ExportableEvent original)
    {
        ExportableEvent copy = RoundTrip(original);

        Assert.Equal(JsonLine(original), JsonLine(copy));
        Assert.Equal(Payload(original), Payload(copy));
        AssertSameFields(original, copy);
    }

    [Fact]
    public async Task Write_IntoAReusedBuffer_AllocatesNothing()
    {
        ExportableEvent[] events = [.. ParquetSampleEvents.Repetitive(10_000), .. Samples()];
        using var buffer = new PooledBufferWriter();
        WriteAll(events, buffer);

        long allocated = await ThreadAllocations.LeastOfThreeAsync(() =>
        {
            buffer.Clear();
            WriteAll(events, buffer);
            return Task.CompletedTask;
        });

        Assert.True(allocated < 1024, $"Writing {events.Length} events allocated {allocated} bytes.");
    }

    [Fact]
    public void Write_IntoASmallSegmentWriter_GivesTheSameBytes()
    {
        // A writer that lends only what is asked for makes every field cross a span boundary.
        foreach (ExportableEvent e in Samples())
        {
            var segments = new StingyBufferWriter();
            EventRecordCodec.Write(e, segments);

            Assert.Equal(Payload(e), segments.Written.ToArray());
        }
    }

    private static ExportableEvent[] Samples() =>
    [
        .. ParquetSampleEvents.Features().Select(row => row.Event),
        .. ParquetSampleEvents.Trackings().Select(row => row.Event),
        new FeatureEvent
        {
            Kind = "custom-kind", ContextKind = "", UserKey = "u", CreationDate = long.MinValue, Key = "k", Variation = "v",
            Value = long.MinValue, Default = true, Version = "v2", Source = "",
            Metadata = new Dictionary<string, FlagValue> { ["max"] = long.MaxValue, ["neg0"] = -0.0, ["lone"] = "\uDC00x" },
        },
        new FeatureEvent
        {
            Value = FlagValue.FromArray([FlagValue.FromArray([]), FlagValue.FromObject([]), FlagValue.Null, -1, "s", 2.5, false]),
            Metadata = FlagObject.Empty,
        },
        new TrackingEvent { Kind = "track", ContextKind = "", CreationDate = -1, EvaluationContext = FlagObject.Empty },
        new TrackingEvent
        {
            EvaluationContext = FlagObject.Create([new("obj", FlagValue.FromObject([new("z", 1), new("a", FlagValue.FromArray([1.5]))]))]),
            TrackingEventDetails = FlagObject.Empty,
        },
    ];

    private static byte[] Payload(ExportableEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        EventRecordCodec.Write(e, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static ExportableEvent RoundTrip(ExportableEvent e)
    {
        ExportableEvent copy = EventRecordCodec.Read(EventRecordCodec.TagOf(e), Payload(e));
        Assert.IsType(e.GetType(), copy);
        return copy;
    }

    private static void WriteAll(ExportableEvent[] events, PooledBufferWriter buffer)
    {
        foreach (ExportableEvent e in events)
        {
            EventRecordCodec.Write(e, buffer);
        }
    }

    private static byte[] JsonLine(ExportableEvent e)
    {
        using var buffer = new PooledBufferWriter();
        JsonLinesEncoder.WriteLine(buffer, e);
        return buffer.WrittenSpan.ToArray();
    }

    private static void AssertSameFields(ExportableEvent expected, ExportableEvent actual)
    {
        Assert.Equal(expected.Kind, actual.Kind, StringComparer.Ordinal);
        Assert.Equal(expected.ContextKind, actual.ContextKind, StringComparer.Ordinal);
        Assert.Equal(expected.UserKey, actual.UserKey, StringComparer.Ordinal);
        Assert.Equal(expected.CreationDate, actual.CreationDate);
        Assert.Equal(expected.Key, actual.Key, StringComparer.Ordinal);
        if (expected is FeatureEvent feature)
        {
            var copy = Assert.IsType<FeatureEvent>(actual);
            Assert.Equal(feature.Variation, copy.Variation, StringComparer.Ordinal);
            Assert.Equal(feature.Value, copy.Value);
            Assert.Equal(feature.Default, copy.Default);
            Assert.Equal(feature.Version, copy.Version, StringComparer.Ordinal);
            Assert.Equal(feature.Source, copy.Source, StringComparer.Ordinal);
            Assert.Equal(feature.MetadataObject, copy.MetadataObject);
        }
        else
        {
            var tracking = (TrackingEvent)expected;
            var copy = Assert.IsType<TrackingEvent>(actual);
            Assert.Equal(tracking.EvaluationContextObject, copy.EvaluationContextObject);
            Assert.Equal(tracking.TrackingEventDetailsObject, copy.TrackingEventDetailsObject);
        }
    }

    /// <summary>A feature payload with empty strings everywhere, <paramref name="value"/> as its value bytes.</summary>
    private static byte[] FeaturePayload(byte[] value, byte isDefault = 0, byte[]? metadata = null) =>
        [1, 0, 0, 0, 0, 0, 0, .. value, isDefault, 0, 0, .. metadata ?? [0]];

    private static string ReadError(byte[] payload, byte tag = EventRecordCodec.FeatureTag) =>
        Assert.Throws<InvalidDataException>(() => EventRecordCodec.Read(tag, payload)).Message;

    private static FlagValue Nested(int depth, FlagValue leaf)
    {
        FlagValue value = leaf;
        for (int i = 0; i < depth; i++)
        {
            value = i % 2 == 0 ? FlagValue.FromArray([value]) : FlagValue.FromObject([new("k", value)]);
        }

        return value;
    }

    private static int Depth(FlagValue value) => value.Kind switch
    {
        FlagValueKind.Array => 1 + value.AsArray().ToArray().Select(Depth).DefaultIfEmpty(0).Max(),
        FlagValueKind.Object => 1 + value.AsObject().Values.Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    /// <summary>Lends exactly the size asked for, in a new segment each time, as a pipe writer at a segment's end may.</summary>
    private sealed class StingyBufferWriter : IBufferWriter<byte>
    {
        private readonly List<byte> _written = [];
        private byte[] _current = [];

        public IReadOnlyList<byte> Written => _written;

        public void Advance(int count) => _written.AddRange(_current.AsSpan(0, count));

        public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, 1)];

        public Span<byte> GetSpan(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, 1)];
    }
}
