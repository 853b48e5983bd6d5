using System.Text;
using System.Text.Json;
using FlagExport.Json;

namespace FlagExport.Tests.Json;

/// <summary>JSON read into flag values as go-feature-flag reads it, whole or cut short.</summary>
public sealed class FlagValueReaderTests
{
    [Theory]
    [InlineData("9007199254740991", FlagValueKind.Integer, "9007199254740991")]
    [InlineData("-9007199254740991", FlagValueKind.Integer, "-9007199254740991")]
    [InlineData("9007199254740992", FlagValueKind.Double, "9007199254740992")]
    [InlineData("9007199254740993", FlagValueKind.Double, "9007199254740992")]
    [InlineData("-9007199254740993", FlagValueKind.Double, "-9007199254740992")]
    [InlineData("1.0", FlagValueKind.Double, "1")]
    [InlineData("1e300", FlagValueKind.Double, "1E+300")]
    [InlineData("\"\\ud800x\\udc00\"", FlagValueKind.String, "\uFFFDx\uFFFD")]
    [InlineData("\"\\ud83d\\ude00\"", FlagValueKind.String, "\U0001F600")]
    public void Numbers_AreGoFloat64s_AndLoneSurrogatesBecomeReplacementCharacters(string json, FlagValueKind kind, string text)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        FlagValue value = FlagValue.FromJsonElement(document.RootElement);

        Assert.Equal(kind, value.Kind);
        Assert.Equal(text, value.ToString());
        Assert.Equal(value, Read(json));
    }

    [Fact]
    public void FromJsonElement_ReadsElementsOfLenientDocuments_AndUndefinedAsNull()
    {
        using JsonDocument document = JsonDocument.Parse("""{"a": /* note */ [1, 2,], "b": 1,}""",
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });

        FlagObject properties = FlagObject.FromJsonElement(document.RootElement);

        Assert.Equal(2, properties["a"].AsArray().Length);
        Assert.True(FlagValue.FromJsonElement(default).IsNull);
    }

    [Fact]
    public void ANumberBeyondTheDoubleRange_IsRefused_NamingWhereItIs()
    {
        using JsonDocument document = JsonDocument.Parse("""{"a":{"b":[1,1e400]}}""");

        var exception = Assert.Throws<ArgumentException>(() => FlagValue.FromJsonElement(document.RootElement));

        Assert.Contains("property 'a': property 'b': number 1e400 is out of range", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public void Objects_AreSortedAsGoSortsMapKeys_TheLastOfARepeatedNameWins(int count)
    {
        var json = new StringBuilder("{");
        for (int i = count - 1; i >= 0; i--)
        {
            _ = json.Append($"\"k{i:D2}\":{i},");
        }

        string text = json.Append("\"k00\":\"last\",\"\uE000\":1,\"\U0001F600\":2}").ToString();
        FlagObject properties = Read(text).AsObject();

        Assert.Equal([.. Enumerable.Range(0, count).Select(i => $"k{i:D2}"), "\uE000", "\U0001F600"], properties.Keys);
        Assert.Equal("last", properties["k00"].AsString());
    }

    [Fact]
    public void TextCutShortInsideAValue_AsksForMore_AndTheSameReadSucceedsOnceItIsThere()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"a":[1,{"b":"c"},[true,null]],"d":"e"}""");
        for (int cut = 1; cut < json.Length; cut++)
        {
            var partial = new Utf8JsonReader(json.AsSpan(0, cut), isFinalBlock: false, default);
            if (partial.Read())
            {
                Assert.Equal(JsonReadStatus.NeedMoreData, FlagValueReader.Read(ref partial, null, build: true, out _, out _));
            }

            Assert.Equal(Read("""{"a":[1,{"b":"c"},[true,null]],"d":"e"}"""), Read(Encoding.UTF8.GetString(json)));
        }
    }

    [Fact]
    public void CheckingOnly_AllocatesNothing_AndStillFindsTheBadNumber()
    {
        byte[] good = """{"env":"prod","n":[1,2,{"x":"y"}]}"""u8.ToArray();
        _ = Check(good, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        JsonReadStatus status = Check(good, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(JsonReadStatus.Done, status);
        Assert.Equal(0, allocated);
        Assert.Equal(JsonReadStatus.Invalid, Check("""{"n":[1e999]}"""u8.ToArray(), out string? error));
        Assert.Equal("property 'n': number 1e999 is out of range", error);
    }

    [Fact]
    public void RepeatedShortStrings_ComeFromTheCache()
    {
        var strings = new Utf8StringCache();
        string first = strings.GetString("variation-a"u8), second = strings.GetString("variation-a"u8);

        Assert.Same(first, second);
        Assert.Equal("é", strings.GetString("é"u8)); // not ASCII: decoded, not kept
        Assert.Equal("\uFFFD", strings.GetString([0xFF]));
        Assert.Equal(new string('x', 100), strings.GetString(Encoding.ASCII.GetBytes(new string('x', 100))));
    }

    private static JsonReadStatus Check(byte[] json, out string? error)
    {
        var reader = new Utf8JsonReader(json);
        _ = reader.Read();
        return FlagValueReader.Read(ref reader, null, build: false, out _, out error);
    }

    private static FlagValue Read(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        _ = reader.Read();
        Assert.Equal(JsonReadStatus.Done, FlagValueReader.Read(ref reader, null, build: true, out FlagValue value, out string? error));
        Assert.Null(error);
        return value;
    }
}
