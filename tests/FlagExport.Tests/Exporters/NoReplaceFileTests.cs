namespace FlagExport.Tests.Exporters;

public sealed class NoReplaceFileTests
{
    [Theory]
    [InlineData("a.json", 0, "a.json")]
    [InlineData("a.json", 2, "a-2.json")]
    [InlineData("flag-variation-host-1617970800.parquet", 1, "flag-variation-host-1617970800-1.parquet")]
    [InlineData("noextension", 3, "noextension-3")]
    public void WithSuffix_InsertsBeforeTheExtension(string name, int suffix, string expected)
    {
        Assert.Equal(expected, NoReplaceFile.WithSuffix(name, suffix));
    }

    [Fact]
    public async Task WriteNewAsync_ExistingFile_IsKeptIntact()
    {
        using var folder = new TempDirectory();
        string existing = Path.Combine(folder.Path, "taken.json");
        await File.WriteAllTextAsync(existing, "old", TestContext.Current.CancellationToken);

        (string written, int suffix) = await NoReplaceFile.WriteNewAsync(folder.Path, "taken.json", 0, "new"u8.ToArray(), beforeVisible: null, TestContext.Current.CancellationToken);

        Assert.Equal(Path.Combine(folder.Path, "taken-1.json"), written);
        Assert.Equal(1, suffix);
        Assert.Equal("old", await File.ReadAllTextAsync(existing, TestContext.Current.CancellationToken));
        Assert.Equal("new", await File.ReadAllTextAsync(written, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WriteNewAsync_OffersEachFreeNameWithItsSuffix_FromTheFirstSuffixOn()
    {
        using var folder = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "part-3.json"), "other", TestContext.Current.CancellationToken);
        var offered = new List<(string, int)>();

        (string written, int suffix) = await NoReplaceFile.WriteNewAsync(folder.Path, "part.json", 3, "mine"u8.ToArray(),
            (name, taken, _) =>
            {
                offered.Add((name, taken));
                return ValueTask.CompletedTask;
            },
            TestContext.Current.CancellationToken);

        Assert.Equal([("part-4.json", 4)], offered);
        Assert.Equal((Path.Combine(folder.Path, "part-4.json"), 4), (written, suffix));
        Assert.Equal(["part-3.json", "part-4.json"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task WriteNewAsync_WhenBeforeVisibleThrows_NothingAppears()
    {
        using var folder = new TempDirectory();

        await Assert.ThrowsAsync<InvalidOperationException>(() => NoReplaceFile.WriteNewAsync(folder.Path, "a.json", 0, "x"u8.ToArray(),
            (_, _, _) => throw new InvalidOperationException("the record could not be saved"),
            TestContext.Current.CancellationToken));

        Assert.Empty(Directory.GetFileSystemEntries(folder.Path)); // neither the file nor its temporary
    }

    [Theory]
    [InlineData("sub/a.json")]
    [InlineData("../a.json")]
    [InlineData("..")]
    public async Task WriteNewAsync_NameWithAFolder_IsRefused(string fileName)
    {
        using var folder = new TempDirectory();

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => NoReplaceFile.WriteNewAsync(folder.Path, fileName, 0, "x"u8.ToArray(), null, TestContext.Current.CancellationToken));

        Assert.Contains(fileName, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task WriteNewAsync_Cancelled_LeavesNothing()
    {
        using var folder = new TempDirectory();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        _ = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NoReplaceFile.WriteNewAsync(folder.Path, "a.json", 0, "x"u8.ToArray(), null, cancelled.Token));

        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task WriteNewAsync_AFolderUnderTheName_CountsAsTaken()
    {
        using var folder = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(folder.Path, "a.json"));
        var offered = new List<string>();

        (string written, _) = await NoReplaceFile.WriteNewAsync(folder.Path, "a.json", 0, "x"u8.ToArray(),
            (name, _, _) =>
            {
                offered.Add(name);
                return ValueTask.CompletedTask;
            },
            TestContext.Current.CancellationToken);

        Assert.Equal(["a-1.json"], offered);
        Assert.Equal(Path.Combine(folder.Path, "a-1.json"), written);
    }
}
