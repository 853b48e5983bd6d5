using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using FlagExport.Json;

namespace FlagExport;

/// <summary>
/// Any JSON value a flag can evaluate to: null, boolean, number, string, array or object.
/// </summary>
/// <remarks>
/// An immutable struct so that the common cases (booleans, numbers, strings) cost no allocation
/// beyond the string itself. Implicit conversions let callers write <c>Value = "on"</c> or <c>Value = 42</c>.
/// Arrays and objects are copied into read-only collections when created, so a value is safe to share across threads.
/// </remarks>
public readonly struct FlagValue : IEquatable<FlagValue>
{
    private readonly object? _reference; // string, FlagValue[] or FlagObject
    private readonly long _bits;          // bool (0/1), long, or the bits of a double

    private FlagValue(FlagValueKind kind, long bits, object? reference)
    {
        Kind = kind;
        _bits = bits;
        _reference = reference;
    }

    /// <summary>The JSON null value.</summary>
    public static FlagValue Null => default;

    /// <summary>The kind of value held.</summary>
    public FlagValueKind Kind { get; }

    /// <summary><see langword="true"/> when this is JSON null.</summary>
    public bool IsNull => Kind == FlagValueKind.Null;

    /// <summary>Creates a boolean value.</summary>
    public static FlagValue FromBoolean(bool value) => new(FlagValueKind.Boolean, value ? 1 : 0, null);

    /// <summary>Creates an integer value.</summary>
    public static FlagValue FromInteger(long value) => new(FlagValueKind.Integer, value, null);

    /// <summary>Creates a floating-point value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite, which JSON cannot hold.</exception>
    public static FlagValue FromDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "JSON numbers must be finite.");
        }

        return new(FlagValueKind.Double, BitConverter.DoubleToInt64Bits(value), null);
    }

    /// <summary>Creates a string value; <see langword="null"/> gives <see cref="Null"/>.</summary>
    public static FlagValue FromString(string? value) => value is null ? default : new(FlagValueKind.String, 0, value);

    /// <summary>Creates an array value from a copy of <paramref name="items"/>.</summary>
    public static FlagValue FromArray(IEnumerable<FlagValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new(FlagValueKind.Array, 0, items.ToArray());
    }

    /// <summary>Creates an array value that takes <paramref name="items"/> as it is, for decoders that built it.</summary>
    /// <remarks>No copy: the caller must not change or share the array afterwards.</remarks>
    internal static FlagValue FromOwnedArray(FlagValue[] items) => new(FlagValueKind.Array, 0, items);

    /// <summary>Creates an object value; its properties are sorted as <see cref="FlagObject"/> describes.</summary>
    public static FlagValue FromObject(IEnumerable<KeyValuePair<string, FlagValue>> properties) =>
        new(FlagValueKind.Object, 0, FlagObject.Create(properties));

    /// <summary>Creates a value from a parsed JSON element, copying it so that the source document can be disposed.</summary>
    /// <remarks>
    /// Numbers are read as go-feature-flag reads them, as Go's float64: integers below 2^53 in magnitude become integers,
    /// others doubles (9007199254740993 becomes 9007199254740992). A lone UTF-16 surrogate escape becomes U+FFFD.
    /// </remarks>
    /// <exception cref="ArgumentException">A number is beyond the range of a double.</exception>
    public static FlagValue FromJsonElement(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            return default;
        }

        // The element was parsed already, perhaps with comments or trailing commas allowed: read its text as leniently.
        var reader = new Utf8JsonReader(JsonMarshal.GetRawUtf8Value(element), ElementReaderOptions);
        _ = reader.Read();
        return FlagValueReader.Read(ref reader, strings: null, build: true, out FlagValue value, out string? error) == JsonReadStatus.Done
            ? value
            : throw new ArgumentException($"The JSON value cannot be held: {error}.", nameof(element));
    }

    private static readonly JsonReaderOptions ElementReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = FlagValueReader.MaxElementDepth,
    };

    /// <summary>The boolean held; throws when <see cref="Kind"/> is not <see cref="FlagValueKind.Boolean"/>.</summary>
    public bool AsBoolean() => Kind == FlagValueKind.Boolean ? _bits != 0 : throw WrongKind(FlagValueKind.Boolean);

    /// <summary>The integer held; throws when <see cref="Kind"/> is not <see cref="FlagValueKind.Integer"/>.</summary>
    public long AsInteger() => Kind == FlagValueKind.Integer ? _bits : throw WrongKind(FlagValueKind.Integer);

    /// <summary>The number held as a double, for <see cref="FlagValueKind.Integer"/> and <see cref="FlagValueKind.Double"/>.</summary>
    public double AsDouble() => Kind switch
    {
        FlagValueKind.Double => BitConverter.Int64BitsToDouble(_bits),
        FlagValueKind.Integer => _bits,
        _ => throw WrongKind(FlagValueKind.Double),
    };

    /// <summary>The string held; throws when <see cref="Kind"/> is not <see cref="FlagValueKind.String"/>.</summary>
    public string AsString() => Kind == FlagValueKind.String ? Unsafe.As<string>(_reference!) : throw WrongKind(FlagValueKind.String);

    /// <summary>The items of an array value; throws for other kinds.</summary>
    public ReadOnlySpan<FlagValue> AsArray() =>
        Kind == FlagValueKind.Array ? Unsafe.As<FlagValue[]>(_reference!) : throw WrongKind(FlagValueKind.Array);

    /// <summary>The properties of an object value; throws for other kinds.</summary>
    public FlagObject AsObject() =>
        Kind == FlagValueKind.Object ? Unsafe.As<FlagObject>(_reference!) : throw WrongKind(FlagValueKind.Object);

    /// <inheritdoc/>
    public bool Equals(FlagValue other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }

        switch (Kind)
        {
            case FlagValueKind.Null:
                return true;
            case FlagValueKind.Boolean:
            case FlagValueKind.Integer:
                return _bits == other._bits;
            case FlagValueKind.Double:
                return AsDouble().Equals(other.AsDouble());
            case FlagValueKind.String:
                return string.Equals(AsString(), other.AsString(), StringComparison.Ordinal);
            case FlagValueKind.Array:
                return AsArray().SequenceEqual(other.AsArray());
            default:
                return AsObject().Equals(other.AsObject());
        }
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is FlagValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Kind switch
    {
        FlagValueKind.Null => 0,
        FlagValueKind.String => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(AsString())),
        FlagValueKind.Array => HashCode.Combine(Kind, AsArray().Length),
        FlagValueKind.Object => HashCode.Combine(Kind, AsObject().Count),
        FlagValueKind.Double => HashCode.Combine(Kind, AsDouble() == 0 ? 0.0 : AsDouble()), // 0.0 and -0.0 are equal: one hash
        _ => HashCode.Combine(Kind, _bits),
    };

    /// <summary>A readable form for debugging and test output: strings raw, numbers in invariant culture.</summary>
    public override string ToString() => Kind switch
    {
        FlagValueKind.Null => "null",
        FlagValueKind.Boolean => _bits != 0 ? "true" : "false",
        FlagValueKind.Integer => _bits.ToString(CultureInfo.InvariantCulture),
        FlagValueKind.Double => AsDouble().ToString("R", CultureInfo.InvariantCulture),
        FlagValueKind.String => AsString(),
        FlagValueKind.Array => $"[{AsArray().Length} items]",
        _ => $"{{{AsObject().Count} properties}}",
    };

    /// <summary>Equality by kind and content.</summary>
    public static bool operator ==(FlagValue left, FlagValue right) => left.Equals(right);

    /// <summary>Inequality by kind and content.</summary>
    public static bool operator !=(FlagValue left, FlagValue right) => !left.Equals(right);

    /// <summary>Converts a boolean.</summary>
    public static implicit operator FlagValue(bool value) => FromBoolean(value);

    /// <summary>Converts an integer.</summary>
    public static implicit operator FlagValue(int value) => FromInteger(value);

    /// <summary>Converts an integer.</summary>
    public static implicit operator FlagValue(long value) => FromInteger(value);

    /// <summary>Converts a floating-point number.</summary>
    public static implicit operator FlagValue(double value) => FromDouble(value);

    /// <summary>Converts a string; <see langword="null"/> gives <see cref="Null"/>.</summary>
    public static implicit operator FlagValue(string? value) => FromString(value);

    private InvalidOperationException WrongKind(FlagValueKind wanted) => new($"The value is {Kind}, not {wanted}.");
}
