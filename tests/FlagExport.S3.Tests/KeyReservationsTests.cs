namespace FlagExport.S3.Tests;

/// <summary>The process-wide memory of names given out (no server needed).</summary>
public sealed class KeyReservationsTests
{
    [Fact]
    public void Reserve_SameNameTwice_GivesZeroThenOne_PerBucket()
    {
        var names = new KeyReservations();

        Assert.Equal((0, 1, 0), (names.Reserve("a", "x.json"), names.Reserve("a", "x.json"), names.Reserve("b", "x.json")));
    }

    [Fact]
    public void Reserve_AfterATakenSuffix_SkipsPastIt()
    {
        var names = new KeyReservations();
        _ = names.Reserve("a", "x.json");

        Assert.Equal(6, names.Reserve("a", "x.json", after: 5));
        Assert.Equal(7, names.Reserve("a", "x.json"));
    }

    [Fact]
    public async Task Reserve_ManyThreads_NeverGiveTheSameSuffixTwice()
    {
        var names = new KeyReservations();

        int[][] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Enumerable.Range(0, 500).Select(_ => names.Reserve("a", "x.json")).ToArray())));

        Assert.Equal(Enumerable.Range(0, 4000), results.SelectMany(r => r).Order());
    }
}
