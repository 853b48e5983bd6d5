using System.Buffers;

namespace FlagExport.Formats;

/// <summary>
/// Writes JSON strings and values with the exact bytes Go's encoding/json produces (go-feature-flag's output).
/// </summary>
internal static partial class GoJson
{
    /// <summary>Writes <paramref name="value"/> as a JSON string literal, quotes included.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<char> value) => throw new NotImplementedException();

    /// <summary>Writes <paramref name="value"/> as compact JSON: objects with sorted keys, numbers as Go writes float64.</summary>
    public static void WriteValue(IBufferWriter<byte> output, in FlagValue value) => throw new NotImplementedException();
}
