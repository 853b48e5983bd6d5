using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using FlagExport.Buffers;
using FlagExport.Durability;

namespace FlagExport.Benchmarks;

/// <summary>
/// The durable buffer's event payloads for 10,000 events: <see cref="EventRecordCodec"/> writing, reading and both,
/// against what a straightforward port does, a DTO per event through <see cref="JsonSerializer"/> and back.
/// </summary>
/// <remarks>Results are in the remarks at the top of <see cref="EventRecordCodec"/>'s source.</remarks>
[MemoryDiagnoser]
[ShortRunJob]
public class EventRecordCodecBenchmarks
{
    private static readonly JsonSerializerOptions JsonOptions = new() { Converters = { new FlagValueJsonConverter() } };

    private ExportableEvent[] _events = [];
    private PooledBufferWriter _buffer = null!;
    private byte[] _written = [];
    private int[] _ends = [];

    [Params(10_000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events = SampleBatch.Create(Events);
        _buffer = new PooledBufferWriter(4 * 1024 * 1024);
        _ends = new int[Events];
        WriteAll();
        _written = _buffer.WrittenSpan.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _buffer.Dispose();

    /// <summary>Each event as a DTO through JsonSerializer, then every line back into an event.</summary>
    [Benchmark(Baseline = true)]
    public int JsonSerializerRoundTrip()
    {
        _buffer.Clear();
        using (var writer = new Utf8JsonWriter(_buffer))
        {
            for (int i = 0; i < _events.Length; i++)
            {
                JsonSerializer.Serialize(writer, EventDto.From((FeatureEvent)_events[i]), JsonOptions);
                writer.Flush();
                writer.Reset();
                _ends[i] = _buffer.WrittenCount;
            }
        }

        int checksum = 0, start = 0;
        for (int i = 0; i < _ends.Length; i++)
        {
            EventDto dto = JsonSerializer.Deserialize<EventDto>(_buffer.WrittenSpan[start.._ends[i]], JsonOptions)!;
            checksum += dto.ToEvent().Key.Length;
            start = _ends[i];
        }

        return checksum;
    }

    [Benchmark]
    public int CodecRoundTrip() => WriteAll() + ReadAll(_buffer.WrittenSpan);

    [Benchmark]
    public int CodecWrite() => WriteAll();

    [Benchmark]
    public int CodecRead() => ReadAll(_written);

    private int WriteAll()
    {
        _buffer.Clear();
        for (int i = 0; i < _events.Length; i++)
        {
            EventRecordCodec.Write(_events[i], _buffer);
            _ends[i] = _buffer.WrittenCount;
        }

        return _buffer.WrittenCount;
    }

    private int ReadAll(ReadOnlySpan<byte> payloads)
    {
        int checksum = 0, start = 0;
        for (int i = 0; i < _ends.Length; i++)
        {
            checksum += EventRecordCodec.Read(EventRecordCodec.FeatureTag, payloads[start.._ends[i]]).Key.Length;
            start = _ends[i];
        }

        return checksum;
    }

    private sealed class EventDto
    {
        public string Kind { get; set; } = "";
        public string ContextKind { get; set; } = "";
        public string UserKey { get; set; } = "";
        public long CreationDate { get; set; }
        public string Key { get; set; } = "";
        public string Variation { get; set; } = "";
        public FlagValue Value { get; set; }
        public bool Default { get; set; }
        public string Version { get; set; } = "";
        public string Source { get; set; } = "";
        public Dictionary<string, FlagValue>? Metadata { get; set; }

        public static EventDto From(FeatureEvent e) => new()
        {
            Kind = e.Kind, ContextKind = e.ContextKind, UserKey = e.UserKey, CreationDate = e.CreationDate, Key = e.Key,
            Variation = e.Variation, Value = e.Value, Default = e.Default, Version = e.Version, Source = e.Source,
            Metadata = e.Metadata?.ToDictionary(),
        };

        public FeatureEvent ToEvent() => new()
        {
            Kind = Kind, ContextKind = ContextKind, UserKey = UserKey, CreationDate = CreationDate, Key = Key,
            Variation = Variation, Value = Value, Default = Default, Version = Version, Source = Source, Metadata = Metadata,
        };
    }

    private sealed class FlagValueJsonConverter : JsonConverter<FlagValue>
    {
        public override FlagValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return FlagValue.FromJsonElement(document.RootElement);
        }

        public override void Write(Utf8JsonWriter writer, FlagValue value, JsonSerializerOptions options)
        {
            switch (value.Kind)
            {
                case FlagValueKind.Null:
                    writer.WriteNullValue();
                    break;
                case FlagValueKind.Boolean:
                    writer.WriteBooleanValue(value.AsBoolean());
                    break;
                case FlagValueKind.Integer:
                    writer.WriteNumberValue(value.AsInteger());
                    break;
                case FlagValueKind.Double:
                    writer.WriteNumberValue(value.AsDouble());
                    break;
                case FlagValueKind.String:
                    writer.WriteStringValue(value.AsString());
                    break;
                case FlagValueKind.Array:
                    writer.WriteStartArray();
                    foreach (FlagValue item in value.AsArray())
                    {
                        Write(writer, item, options);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    writer.WriteStartObject();
                    foreach (KeyValuePair<string, FlagValue> property in value.AsObject())
                    {
                        writer.WritePropertyName(property.Key);
                        Write(writer, property.Value, options);
                    }

                    writer.WriteEndObject();
                    break;
            }
        }
    }
}
