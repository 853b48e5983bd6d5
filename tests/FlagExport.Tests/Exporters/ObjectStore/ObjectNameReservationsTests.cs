namespace FlagExport.Tests.Exporters.ObjectStore;

/// <summary>The process-wide memory of names given out (no server needed).</summary>
public sealed class ObjectNameReservationsTests
{
    [Fact]
    public void Reserve_SameNameTwice_GivesZeroThenOne_PerPlace()
    {
        var names = new ObjectNameReservations();

        Assert.Equal((0, 1, 0), (names.Reserve("a", "x.json"), names.Reserve("a", "x.json"), names.Reserve("b", "x.json")));
    }

    [Fact]
    public void Reserve_AfterATakenSuffix_SkipsPastIt()
    {
        var names = new ObjectNameReservations();
        _ = names.Reserve("a", "x.json");

        Assert.Equal(6, names.Reserve("a", "x.json", after: 5));
        Assert.Equal(7, names.Reserve("a", "x.json"));
    }

    [Fact]
    public async Task Reserve_ManyThreads_NeverGiveTheSameSuffixTwice()
    {
        var names = new ObjectNameReservations();

        int[][] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Enumerable.Range(0, 500).Select(_ => names.Reserve("a", "x.json")).ToArray())));

        Assert.Equal(Enumerable.Range(0, 4000), results.SelectMany(r => r).Order());
    }

    [Fact]
    public void Reserve_PastTheBound_ForgetsTheOldestNameOnly()
    {
        var names = new ObjectNameReservations();
        _ = names.Reserve("a", "oldest.json");
        _ = names.Reserve("a", "recent.json");
        for (int i = 0; i < ObjectNameReservations.MaxRemembered - 1; i++)
        {
            _ = names.Reserve("a", $"filler-{i}.json"); // the last one pushes "oldest" out
        }

        Assert.Equal(1, names.Reserve("a", "recent.json")); // still remembered: a clash in this second gets a new suffix
        Assert.Equal(0, names.Reserve("a", "oldest.json")); // forgotten (the store's create-if-absent still guards it)
    }
}
