namespace FlagExport.Tests.Events;

public sealed class FlagValueTests
{
    [Fact]
    public void ImplicitConversions_KeepKindAndValue()
    {
        FlagValue text = "YO", number = 42, real = 1.5, flag = true, none = (string?)null;

        Assert.Equal(("YO", FlagValueKind.String), (text.AsString(), text.Kind));
        Assert.Equal(42, number.AsInteger());
        Assert.Equal(1.5, real.AsDouble());
        Assert.True(flag.AsBoolean());
        Assert.True(none.IsNull);
        Assert.Equal(FlagValue.Null, default);
    }

    [Fact]
    public void FromDouble_RejectsValuesJsonCannotHold()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => FlagValue.FromDouble(double.NaN));
        Assert.Equal("value", error.ParamName);
    }

    [Fact]
    public void AsString_OnAnotherKind_SaysWhichKindItIs()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FlagValue.FromInteger(1).AsString());
        Assert.Equal("The value is Integer, not String.", error.Message);
    }

    [Fact]
    public void GetHashCode_EqualZeroes_HashAlike()
    {
        FlagValue positive = 0.0, negative = -0.0;

        Assert.Equal(positive, negative);
        Assert.Equal(positive.GetHashCode(), negative.GetHashCode());
    }
}
