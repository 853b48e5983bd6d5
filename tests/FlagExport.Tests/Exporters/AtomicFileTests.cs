namespace FlagExport.Tests.Exporters;

public sealed class AtomicFileTests
{
    [Theory]
    [InlineData("a.json", 0, "a.json")]
    [InlineData("a.json", 2, "a-2.json")]
    [InlineData("flag-variation-host-1617970800.parquet", 1, "flag-variation-host-1617970800-1.parquet")]
    [InlineData("noextension", 3, "noextension-3")]
    public void WithSuffix_InsertsBeforeTheExtension(string name, int suffix, string expected)
    {
        Assert.Equal(expected, AtomicFile.WithSuffix(name, suffix));
    }

    [Fact]
    public async Task WriteNewAsync_ExistingFile_IsKeptIntact()
    {
        using var folder = new TempDirectory();
        string existing = Path.Combine(folder.Path, "taken.json");
        await File.WriteAllTextAsync(existing, "old", TestContext.Current.CancellationToken);

        string written = await AtomicFile.WriteNewAsync(folder.Path, "taken.json", "new"u8.ToArray(), beforeVisible: null, TestContext.Current.CancellationToken);

        Assert.Equal(Path.Combine(folder.Path, "taken-1.json"), written);
        Assert.Equal("old", await File.ReadAllTextAsync(existing, TestContext.Current.CancellationToken));
        Assert.Equal("new", await File.ReadAllTextAsync(written, TestContext.Current.CancellationToken));
    }
}
