using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.FeatureManagement;

namespace FlagExport.FeatureManagement;

/// <summary>
/// The configuration values of a feature definition's variants, converted once into <see cref="FlagValue"/>s.
/// </summary>
/// <remarks>
/// The configuration system holds strings only (a JSON <c>true</c> is read back as <c>"True"</c>, <c>42</c> as
/// <c>"42"</c>), so a leaf becomes a boolean when it reads <c>true</c> or <c>false</c> in any case, a number when it is
/// a JSON number, and a string otherwise; a section whose children are named 0, 1, 2... becomes an array, any other
/// section an object.
/// </remarks>
internal sealed class VariantValues
{
    private readonly Dictionary<string, FlagValue> _values;

    private VariantValues(Dictionary<string, FlagValue> values) => _values = values;

    /// <summary>Converts the variants of <paramref name="definition"/> that have a configuration value.</summary>
    public static VariantValues Of(FeatureDefinition definition)
    {
        var values = new Dictionary<string, FlagValue>(StringComparer.Ordinal);
        if (definition.Variants is { } variants)
        {
            foreach (VariantDefinition variant in variants)
            {
                if (variant.Name is { } name && variant.ConfigurationValue is { } section && section.Exists())
                {
                    values.TryAdd(name, Convert(section));
                }
            }
        }

        return new VariantValues(values);
    }

    /// <summary>The value of the variant named <paramref name="variant"/>, or null when it has none.</summary>
    public FlagValue? Find(string variant) => _values.TryGetValue(variant, out FlagValue value) ? value : null;

    internal static FlagValue Convert(IConfigurationSection section)
    {
        IConfigurationSection[] children = [.. section.GetChildren()];
        if (children.Length == 0)
        {
            return Leaf(section.Value);
        }

        // GetChildren orders numeric keys numerically, so an array's children come as 0, 1, 2...
        bool isArray = true;
        for (int i = 0; i < children.Length && isArray; i++)
        {
            isArray = children[i].Key == i.ToString(CultureInfo.InvariantCulture);
        }

        return isArray
            ? FlagValue.FromArray(children.Select(Convert))
            : FlagValue.FromObject(children.Select(child => KeyValuePair.Create(child.Key, Convert(child))));
    }

    private static FlagValue Leaf(string? value)
    {
        if (value is null)
        {
            return FlagValue.Null;
        }

        if (bool.TryParse(value, out bool boolean))
        {
            return boolean;
        }

        if (value.Length > 0 && (value[0] == '-' || char.IsAsciiDigit(value[0])))
        {
            try
            {
                using JsonDocument number = JsonDocument.Parse(value);
                if (number.RootElement.ValueKind == JsonValueKind.Number)
                {
                    return FlagValue.FromJsonElement(number.RootElement);
                }
            }
            catch (JsonException)
            {
                // Not a JSON number, such as "1.2.3" or "12abc": a string.
            }
            catch (ArgumentException)
            {
                // A number beyond the range of a double: kept as written.
            }
        }

        return value;
    }
}
