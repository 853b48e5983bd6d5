using System.Text;
using FlagExport.Buffers;
using FlagExport.Formats;

namespace FlagExport.Tests.Formats;

public sealed class GoJsonTests
{
    // Expected bytes are what Go 1.22+'s json.Marshal writes for the same string or float64.
    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("é ü 日本 +'`", "\"é ü 日本 +'`\"")]
    [InlineData("<a href=\"x\">&</a>", "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\"")]
    [InlineData("\u2028\u2029", "\"\\u2028\\u2029\"")]
    [InlineData("a\nb\rc\td\be\ff\\g", "\"a\\nb\\rc\\td\\be\\ff\\\\g\"")]
    [InlineData("\u0000\u0001\u001f\u007f", "\"\\u0000\\u0001\\u001f\u007f\"")]
    [InlineData("\U0001F600", "\"\U0001F600\"")]
    [InlineData("", "\"\"")]
    public void WriteString_EscapesAsGoDoes(string input, string expected)
    {
        Assert.Equal(expected, Encode(w => GoJson.WriteString(w, input)));
    }

    [Fact]
    public void WriteString_LoneSurrogate_BecomesEscapedReplacementCharacter()
    {
        // Lone surrogates cannot travel through attribute arguments (stored as UTF-8), hence a Fact.
        Assert.Equal("\"bad\\ufffdend\"", Encode(w => GoJson.WriteString(w, "bad\uD800end")));
        Assert.Equal("\"\\ufffd\\ufffd\"", Encode(w => GoJson.WriteString(w, "\uDC00\uD800")));
        Assert.Equal("\"\uFFFD\"", Encode(w => GoJson.WriteString(w, "\uFFFD")));
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(-0.0, "-0")]
    [InlineData(1.0, "1")]
    [InlineData(1000000.0, "1000000")]
    [InlineData(123456789012.0, "123456789012")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(-2.5e22, "-2.5e+22")]
    [InlineData(1e-6, "0.000001")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1.234e-10, "1.234e-10")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(0.1, "0.1")]
    [InlineData(3.14159, "3.14159")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(123.456, "123.456")]
    [InlineData(0.000123, "0.000123")]
    public void WriteDouble_UsesGoNotation(double input, string expected)
    {
        Assert.Equal(expected, Encode(w => GoJson.WriteDouble(w, input)));
    }

    [Fact]
    public void WriteValue_NestedValues_CompactWithSortedKeys()
    {
        FlagValue value = FlagValue.FromObject(
        [
            new("z", FlagValue.FromArray([1, 2.5, "x", FlagValue.Null, true])),
            new("a", FlagValue.FromObject([new("b", false), new("a", FlagValue.FromArray([]))])),
            new("m", FlagValue.FromObject([])),
        ]);

        Assert.Equal("""{"a":{"a":[],"b":false},"m":{},"z":[1,2.5,"x",null,true]}""", Encode(w => GoJson.WriteValue(w, value)));
    }

    [Theory]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    [InlineData(0L, "0")]
    public void WriteValue_Integer_WritesAllDigits(long input, string expected)
    {
        Assert.Equal(expected, Encode(w => GoJson.WriteValue(w, input)));
    }

    private static string Encode(Action<PooledBufferWriter> write)
    {
        using var buffer = new PooledBufferWriter();
        write(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
