using Parquet;
using Parquet.Schema;

namespace FlagExport.Formats;

/// <summary>
/// The Parquet schemas of go-feature-flag's <c>FeatureEvent</c> and <c>TrackingEvent</c> (their <c>parquet</c>
/// struct tags), as Parquet.Net fields.
/// </summary>
/// <remarks>
/// <para>Every column is REQUIRED, as xitongsys/parquet-go makes a field without <c>repetitiontype</c>: strings are
/// BYTE_ARRAY annotated UTF8 (a null .NET string is written as the empty string), <c>creationDate</c> is INT64,
/// <c>default</c> is BOOLEAN.</para>
/// <para>Maps are <c>MAP&lt;UTF8, UTF8&gt;</c> with a REQUIRED key and a REQUIRED value (a JSON null value is the text
/// <c>null</c>). Parquet.Net 6.1.0 always declares the outer map group OPTIONAL; FlagExport never writes a null map:
/// missing or empty metadata is an empty map, which is what go-feature-flag writes for a nil Go map in its REQUIRED
/// map group. Definition levels of the key and value columns are therefore 1 for an empty map and 2 for an entry.</para>
/// <para>Fields are immutable once the schema is built and are shared by all encoders.</para>
/// </remarks>
internal static class ParquetSchemas
{
    /// <summary>Definition level of a row whose map is empty: the map group is present, no key_value entry.</summary>
    public const int EmptyMapDefinitionLevel = 1;

    /// <summary>Definition level of a map entry (key and value, both REQUIRED).</summary>
    public const int MapEntryDefinitionLevel = 2;

    public static readonly DataField Kind = Text("kind");
    public static readonly DataField ContextKind = Text("contextKind");
    public static readonly DataField UserKey = Text("userKey");
    public static readonly DataField CreationDate = new DataField<long>("creationDate", false);
    public static readonly DataField Key = Text("key");

    /// <summary>The common columns of both schemas, in order.</summary>
    private static readonly Field[] Common = [Kind, ContextKind, UserKey, CreationDate, Key];

    public static readonly DataField Variation = Text("variation");
    public static readonly DataField Value = Text("value");
    public static readonly DataField Default = new DataField<bool>("default", false);
    public static readonly DataField Version = Text("version");
    public static readonly DataField Source = Text("source");
    public static readonly MapField Metadata = TextMap("metadata");

    public static readonly MapField EvaluationContext = TextMap("evaluationContext");
    public static readonly MapField TrackingEventDetails = TextMap("trackingEventDetails");

    /// <summary>kind, contextKind, userKey, creationDate, key, variation, value, default, version, source, metadata.</summary>
    public static readonly ParquetSchema Feature = new([.. Common, Variation, Value, Default, Version, Source, Metadata]);

    /// <summary>kind, contextKind, userKey, creationDate, key, evaluationContext, trackingEventDetails.</summary>
    public static readonly ParquetSchema Tracking = new([.. Common, EvaluationContext, TrackingEventDetails]);

    /// <summary>
    /// Asks Parquet.Net to dictionary-encode every string column of both schemas (map keys and values included) and
    /// to write <c>creationDate</c> as DELTA_BINARY_PACKED.
    /// </summary>
    /// <remarks>
    /// <para>Dictionary encoding is off by default in Parquet.Net 6.x and the data repeats its strings (flag keys,
    /// variations, users). The hint is keyed by the column path. A string field's <c>ClrType</c> is
    /// <see cref="ReadOnlyMemory{T}"/> of char in 6.1.0, not <see cref="string"/>, so both are matched, and a test
    /// checks the encodings written. Parquet.Net still writes PLAIN a column chunk whose values are more than 80 %
    /// distinct (<see cref="ParquetOptions.DictionaryEncodingThreshold"/>).</para>
    /// <para>Creation dates are Unix seconds that barely move within a batch: their deltas take a few bits each where
    /// PLAIN takes 64. The column stays INT64 with no logical type; the encoding is parquet-format's own, which DuckDB
    /// and ParquetSharp read (tested).</para>
    /// </remarks>
    public static void AddEncodingHints(ParquetOptions options)
    {
        foreach (ParquetSchema schema in (ParquetSchema[])[Feature, Tracking])
        {
            foreach (DataField field in schema.GetDataFields())
            {
                if (field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>))
                {
                    options.ColumnEncodingHints[field.Path.ToString()] = EncodingHint.Dictionary;
                }
            }
        }

        options.ColumnEncodingHints[CreationDate.Path.ToString()] = EncodingHint.DeltaBinaryPacked;
    }

    private static DataField<string> Text(string name) => new(name, false);

    private static MapField TextMap(string name) => new(name, Text("key"), Text("value"));
}
