using System.Text;
using FlagExport.Json;

namespace FlagExport.Tests.Json;

/// <summary>Short values decoded once and shared, with every other value decoded as UTF-8 decodes it.</summary>
public sealed class Utf8StringCacheTests
{
    [Fact]
    public void AnAsciiValueSeenAgain_IsTheSameString()
    {
        var cache = new Utf8StringCache();

        string first = cache.GetString("variant-b"u8);
        string second = cache.GetString("variant-b"u8);

        Assert.Equal("variant-b", first);
        Assert.Same(first, second);
    }

    [Theory]
    [InlineData(new byte[] { 0x63, 0x61, 0x66, 0xC3, 0xA9 })] // "café"
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 })]             // invalid UTF-8: U+FFFD in its place
    [InlineData(new byte[] { 0xC3, 0xA9, 0xC3, 0xA9 })]       // same length as an ASCII value cached below
    public void NonAsciiValues_AreDecodedAsUtf8_EveryTime_EvenWhereAnAsciiValueIsCached(byte[] utf8)
    {
        var cache = new Utf8StringCache(slots: 1); // one slot: every value meets whatever is cached
        _ = cache.GetString("abcd"u8);

        string first = cache.GetString(utf8);
        string second = cache.GetString(utf8);

        Assert.Equal(Encoding.UTF8.GetString(utf8), first);
        Assert.Equal(first, second);
        Assert.Same(cache.GetString("abcd"u8), cache.GetString("abcd"u8));
    }

    [Fact]
    public void ALongValue_IsDecodedWithoutTheCache()
    {
        var cache = new Utf8StringCache();
        byte[] utf8 = Encoding.ASCII.GetBytes(new string('x', Utf8StringCache.MaxLength + 1));

        Assert.NotSame(cache.GetString(utf8), cache.GetString(utf8));
        Assert.Equal(new string('x', Utf8StringCache.MaxLength + 1), cache.GetString(utf8));
    }
}
