namespace FlagExport.Tests.Events;

public sealed class FlagObjectTests
{
    [Fact]
    public void Create_SortsKeysByUtf8BytesAndKeepsLastDuplicate()
    {
        FlagObject map = FlagObject.Create(
        [
            new("b", 1), new("a", 2), new("\uFFFD", 3), new("\U0001F600", 4), new("a", 5),
        ]);

        Assert.Equal(["a", "b", "\uFFFD", "\U0001F600"], map.Keys);
        Assert.Equal(5, map["a"].AsInteger());
        Assert.True(map.TryGetValue("\U0001F600", out FlagValue emoji));
        Assert.Equal(4, emoji.AsInteger());
        Assert.False(map.ContainsKey("c"));
    }

    [Fact]
    public void FromJsonElement_CopiesNestedValues()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""{"z":[1,2.5,"x",null,true],"a":{"n":1}}""");
        FlagObject map = FlagObject.FromJsonElement(document.RootElement);

        Assert.Equal(["a", "z"], map.Keys);
        Assert.Equal(1, map["a"].AsObject()["n"].AsInteger());
        FlagValue[] items = map["z"].AsArray().ToArray();
        Assert.Equal([FlagValueKind.Integer, FlagValueKind.Double, FlagValueKind.String, FlagValueKind.Null, FlagValueKind.Boolean], items.Select(i => i.Kind));
        Assert.Equal(2.5, items[1].AsDouble());
    }

    [Theory]
    [InlineData("a")]
    [InlineData("m")]
    [InlineData("z")]
    [InlineData("k")]
    public void With_AddsOrReplacesOneProperty_KeepingGoOrder(string key)
    {
        FlagObject original = FlagObject.Create(new Dictionary<string, FlagValue> { ["k"] = 1, ["n"] = 2, ["é"] = 3 });

        FlagObject changed = original.With(key, "new");

        var expected = new Dictionary<string, FlagValue> { ["k"] = 1, ["n"] = 2, ["é"] = 3 };
        expected[key] = "new";
        Assert.Equal(FlagObject.Create(expected), changed);
        Assert.Equal(changed.Keys.Order(Utf8OrdinalComparer.Instance), changed.Keys);
        Assert.Equal(FlagObject.Create(new Dictionary<string, FlagValue> { ["k"] = 1, ["n"] = 2, ["é"] = 3 }), original); // unchanged
    }
}
