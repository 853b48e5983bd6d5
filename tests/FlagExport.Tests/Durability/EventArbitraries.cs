using FsCheck;
using FsCheck.Fluent;

namespace FlagExport.Tests.Durability;

/// <summary>FsCheck generators of arbitrary events: awkward strings, every kind of value, trees of bounded depth.</summary>
public static class EventArbitraries
{
    /// <summary>Deepest value tree generated; kept small so that a case stays a few kilobytes.</summary>
    private const int MaxGeneratedDepth = 4;

    private static readonly string[] Fragments =
    [
        "a", "user", "Z9", " ", "\"", "\\", "\n", "\t", "\0", "<>&", "é", "ß", "日本", "\u2028", "\uFFFD", "\uE000", "\uFFFF",
        "😀", "𝄞", "\uD800", "\uDBFF", "\uDC00", "\uDFFF",
    ];

    /// <summary>Registered with FsCheck through the <c>Arbitrary</c> property of the test's attribute.</summary>
    public static Arbitrary<ExportableEvent> Events() => Arb.From(EventGen);

    /// <summary>Strings from fragments (ASCII, escapes, non-ASCII, pairs and lone surrogates) and any UTF-16 code unit.</summary>
    private static Gen<string> Strings { get; } = Gen.Frequency(
            (3, Gen.Elements(Fragments)),
            (1, Gen.Choose(0, 0xFFFF).Select(c => ((char)c).ToString())))
        .ListOf()
        .Select(parts => string.Concat(parts))
        .Resize(8);

    private static Gen<long> Integers { get; } = Gen.OneOf(
        Gen.Elements(0L, 1L, -1L, long.MinValue, long.MaxValue, 1617970547L),
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => (long)i),
        Gen.Choose(int.MinValue, int.MaxValue).Two().Select(t => ((long)t.Item1 << 32) ^ (uint)t.Item2));

    private static Gen<double> Doubles { get; } = Gen.OneOf(
        Gen.Elements(0.0, -0.0, 0.1, 1.5, 1e21, -1e-7, double.MaxValue, double.Epsilon, 3.0),
        Integers.Select(bits => BitConverter.Int64BitsToDouble(bits)).Where(double.IsFinite));

    private static Gen<FlagValue> Scalars { get; } = Gen.OneOf(
        Gen.Constant(FlagValue.Null),
        Gen.Elements(true, false).Select(FlagValue.FromBoolean),
        Integers.Select(FlagValue.FromInteger),
        Doubles.Select(FlagValue.FromDouble),
        Strings.Select(FlagValue.FromString));

    private static Gen<ExportableEvent> EventGen { get; } = Gen.OneOf(FeatureEvents(), TrackingEvents());

    private static Gen<FlagValue> Values(int depth) => depth == 0
        ? Scalars
        : Gen.Frequency(
            (4, Scalars),
            (1, Gen.Choose(0, 4).SelectMany(n => Values(depth - 1).ArrayOf(n)).Select(items => FlagValue.FromArray(items))),
            (1, Objects(depth - 1).Select(o => FlagValue.FromObject(o))));

    private static Gen<FlagObject> Objects(int depth) =>
        Gen.Choose(0, 4)
            .SelectMany(n => Gen.Zip(Strings, Values(depth)).ArrayOf(n))
            .Select(pairs => FlagObject.Create(pairs.Select(p => KeyValuePair.Create(p.Item1, p.Item2))));

    private static Gen<FlagObject?> Maps() => Gen.Frequency(
        (1, Gen.Constant<FlagObject?>(null)),
        (1, Gen.Constant<FlagObject?>(FlagObject.Empty)),
        (3, Gen.Choose(0, MaxGeneratedDepth - 1).SelectMany(Objects).Select(o => (FlagObject?)o)));

    private static Gen<FlagValue> AnyValue() => Gen.Choose(0, MaxGeneratedDepth).SelectMany(Values);

    private static Gen<(string Kind, string ContextKind, string UserKey, long CreationDate, string Key)> Common() =>
        from kind in Gen.Frequency((3, Gen.Constant("")), (1, Strings))
        from contextKind in Gen.Frequency((2, Gen.Elements("user", "anonymousUser", "")), (1, Strings))
        from userKey in Strings
        from creationDate in Integers
        from key in Strings
        select (kind, contextKind, userKey, creationDate, key);

    private static Gen<ExportableEvent> FeatureEvents() =>
        from common in Common()
        from variation in Strings
        from value in AnyValue()
        from isDefault in Gen.Elements(true, false)
        from version in Strings
        from source in Gen.Frequency((2, Gen.Elements("SERVER", "PROVIDER_CACHE")), (1, Strings))
        from metadata in Maps()
        select (ExportableEvent)new FeatureEvent
        {
            Kind = common.Kind.Length == 0 ? "feature" : common.Kind, ContextKind = common.ContextKind, UserKey = common.UserKey,
            CreationDate = common.CreationDate, Key = common.Key, Variation = variation, Value = value, Default = isDefault,
            Version = version, Source = source, Metadata = metadata,
        };

    private static Gen<ExportableEvent> TrackingEvents() =>
        from common in Common()
        from evaluationContext in Maps()
        from details in Maps()
        select (ExportableEvent)new TrackingEvent
        {
            Kind = common.Kind.Length == 0 ? "tracking" : common.Kind, ContextKind = common.ContextKind, UserKey = common.UserKey,
            CreationDate = common.CreationDate, Key = common.Key, EvaluationContext = evaluationContext, TrackingEventDetails = details,
        };
}
