using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace FlagExport.FeatureManagement.Tests.Internal;

/// <summary>
/// A variant's <c>configuration_value</c> as the configuration system holds it (strings only) back into a JSON value.
/// </summary>
public sealed class VariantValuesTests
{
    [Theory]
    [InlineData("\"blue\"", "\"blue\"")]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    [InlineData("42", "42")]
    [InlineData("-7", "-7")]
    [InlineData("2.5", "2.5")]
    [InlineData("1e400", "\"1e400\"")]           // beyond a double: kept as written
    [InlineData("\"1.2.3\"", "\"1.2.3\"")]
    [InlineData("\"12abc\"", "\"12abc\"")]
    [InlineData("\"\"", "\"\"")]
    [InlineData("{ \"steps\": 1, \"name\": \"x\" }", "{\"name\":\"x\",\"steps\":1}")]
    [InlineData("[ \"a\", 2, true ]", "[\"a\",2,true]")]
    [InlineData("[ { \"id\": 1 }, { \"id\": 2 } ]", "[{\"id\":1},{\"id\":2}]")]
    [InlineData("{ \"list\": [ 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 ] }", "{\"list\":[10,11,12,13,14,15,16,17,18,19,20]}")] // 10 sorts after 9
    public void Convert_ReadsTheJsonValueBack(string json, string expected)
    {
        Assert.Equal(Json(expected), VariantValues.Convert(Section(json)));
    }

    [Theory]
    [InlineData("\"true\"", "true")]  // a string that reads as a boolean or a number cannot be told from one
    [InlineData("\"42\"", "42")]
    [InlineData("{ \"0\": \"a\", \"1\": \"b\" }", "[\"a\",\"b\"]")] // nor an object keyed 0, 1... from an array
    public void Convert_TheConfigurationSystemsAmbiguities_ResolveToTheTypedReading(string json, string expected)
    {
        Assert.Equal(Json(expected), VariantValues.Convert(Section(json)));
    }

    private static IConfigurationSection Section(string valueJson) =>
        new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""{ "value": {{valueJson}} }""")))
            .Build()
            .GetSection("value");

    /// <summary>The value <paramref name="json"/> holds, compared by kind and content.</summary>
    private static FlagValue Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return FlagValue.FromJsonElement(document.RootElement);
    }
}
