using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace FlagExport;

/// <summary>
/// An immutable JSON object (string keys, <see cref="FlagValue"/> values) used for event metadata,
/// evaluation contexts and object-valued flags.
/// </summary>
/// <remarks>
/// Properties are kept sorted by the UTF-8 bytes of their names, which is the order Go's encoding/json
/// writes map keys in; encoders can therefore write them as they are, without sorting or allocating per event.
/// A duplicate name keeps its last value, as a JSON decoder does. Create one per distinct set of properties
/// and share it across events: it is safe to read from any number of threads.
/// </remarks>
[SuppressMessage("Naming", "CA1710", Justification = "A JSON object, named as System.Text.Json.Nodes.JsonObject is.")]
public sealed class FlagObject : IReadOnlyDictionary<string, FlagValue>, IEquatable<FlagObject>
{
    private readonly KeyValuePair<string, FlagValue>[] _properties;

    /// <summary>
    /// The JSON encoder's bound on this object's bytes, once computed (0 before): objects are shared by many events,
    /// and immutable, so the walk is done once. Written without a lock: every thread computes the same value.
    /// </summary>
    internal int MaxJsonBytes;

    private FlagObject(KeyValuePair<string, FlagValue>[] sortedUniqueProperties) => _properties = sortedUniqueProperties;

    /// <summary>An object with no properties.</summary>
    public static FlagObject Empty { get; } = new([]);

    /// <summary>The number of properties.</summary>
    public int Count => _properties.Length;

    /// <summary>The property names, sorted.</summary>
    public IEnumerable<string> Keys => _properties.Select(p => p.Key);

    /// <summary>The property values, in the order of <see cref="Keys"/>.</summary>
    public IEnumerable<FlagValue> Values => _properties.Select(p => p.Value);

    /// <summary>The properties in encoding order, for encoders.</summary>
    internal ReadOnlySpan<KeyValuePair<string, FlagValue>> Properties => _properties;

    /// <summary>The value of the property <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">No property has that name.</exception>
    public FlagValue this[string key] => TryGetValue(key, out FlagValue value) ? value : throw new KeyNotFoundException($"No property '{key}'.");

    /// <summary>Creates an object from <paramref name="properties"/>; <see langword="null"/> or none give <see cref="Empty"/>.</summary>
    /// <remarks>An existing <see cref="FlagObject"/> is returned as it is, without copying.</remarks>
    public static FlagObject Create(IEnumerable<KeyValuePair<string, FlagValue>>? properties)
    {
        if (properties is null)
        {
            return Empty;
        }

        if (properties is FlagObject existing)
        {
            return existing;
        }

        KeyValuePair<string, FlagValue>[] items = properties.ToArray();
        foreach (KeyValuePair<string, FlagValue> item in items)
        {
            ArgumentNullException.ThrowIfNull(item.Key, nameof(properties));
        }

        return FromUnsorted(items);
    }

    /// <summary>Creates an object from the properties of a JSON object element, read as <see cref="FlagValue.FromJsonElement"/> reads values.</summary>
    /// <exception cref="ArgumentException">The element is not an object, or holds a number beyond the range of a double.</exception>
    public static FlagObject FromJsonElement(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"Expected a JSON object, got {element.ValueKind}.", nameof(element));
        }

        return FlagValue.FromJsonElement(element).AsObject();
    }

    /// <summary>
    /// Creates an object that takes <paramref name="sortedUniqueProperties"/> as it is, for decoders that checked the
    /// names are strictly increasing under <see cref="Utf8OrdinalComparer"/>. No copy: the caller must not change the array.
    /// </summary>
    internal static FlagObject FromSortedUnique(KeyValuePair<string, FlagValue>[] sortedUniqueProperties) =>
        sortedUniqueProperties.Length == 0 ? Empty : new(sortedUniqueProperties);

    /// <summary>
    /// This object with the property <paramref name="key"/> set to <paramref name="value"/> (added, or replaced): one
    /// array, no sort, for callers that add one property per event to a shared object.
    /// </summary>
    internal FlagObject With(string key, FlagValue value)
    {
        int index = IndexOf(key);
        KeyValuePair<string, FlagValue>[] properties;
        if (index >= 0)
        {
            properties = (KeyValuePair<string, FlagValue>[])_properties.Clone();
            properties[index] = new(key, value);
            return new FlagObject(properties);
        }

        int insertAt = ~index;
        properties = new KeyValuePair<string, FlagValue>[_properties.Length + 1];
        Array.Copy(_properties, properties, insertAt);
        properties[insertAt] = new(key, value);
        Array.Copy(_properties, insertAt, properties, insertAt + 1, _properties.Length - insertAt);
        return new FlagObject(properties);
    }

    /// <inheritdoc/>
    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out FlagValue value)
    {
        int index = IndexOf(key);
        value = index >= 0 ? _properties[index].Value : default;
        return index >= 0;
    }

    /// <summary>Enumerates the properties in sorted order without allocating.</summary>
    public ReadOnlySpan<KeyValuePair<string, FlagValue>>.Enumerator GetEnumerator() => Properties.GetEnumerator();

    IEnumerator<KeyValuePair<string, FlagValue>> IEnumerable<KeyValuePair<string, FlagValue>>.GetEnumerator() =>
        ((IEnumerable<KeyValuePair<string, FlagValue>>)_properties).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _properties.GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(FlagObject? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.Count != Count)
        {
            return false;
        }

        for (int i = 0; i < _properties.Length; i++)
        {
            if (!string.Equals(_properties[i].Key, other._properties[i].Key, StringComparison.Ordinal)
                || !_properties[i].Value.Equals(other._properties[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as FlagObject);

    /// <inheritdoc/>
    public override int GetHashCode() => Count == 0 ? 0 : HashCode.Combine(Count, _properties[0].Key);

    private static FlagObject FromUnsorted(KeyValuePair<string, FlagValue>[] items)
    {
        if (items.Length == 0)
        {
            return Empty;
        }

        // Stable sort, so that among duplicates the last one added is the last one in its run.
        KeyValuePair<string, FlagValue>[] sorted = [.. items.Select((item, index) => (item, index))
            .OrderBy(x => x.item.Key, Utf8OrdinalComparer.Instance)
            .ThenBy(x => x.index)
            .Select(x => x.item)];

        var unique = new List<KeyValuePair<string, FlagValue>>(sorted.Length);
        foreach (KeyValuePair<string, FlagValue> item in sorted)
        {
            if (unique.Count > 0 && string.Equals(unique[^1].Key, item.Key, StringComparison.Ordinal))
            {
                unique[^1] = item;
            }
            else
            {
                unique.Add(item);
            }
        }

        return new FlagObject([.. unique]);
    }

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int low = 0, high = _properties.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            int comparison = Utf8OrdinalComparer.Instance.Compare(_properties[middle].Key, key);
            if (comparison == 0)
            {
                return middle;
            }

            if (comparison < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low; // where the key would go, as Array.BinarySearch answers
    }
}
