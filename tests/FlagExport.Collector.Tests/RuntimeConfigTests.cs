using System.Text.Json;

namespace FlagExport.Collector.Tests;

/// <summary>The runtime settings the collector ships with, which its measured memory under load depends on.</summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void Collector_RunsWithTheWorkstationConcurrentGc_AndConservesMemory()
    {
        string assembly = typeof(CollectorApp).Assembly.Location;
        string path = Path.ChangeExtension(assembly, ".runtimeconfig.json");
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.True(properties.GetProperty("System.GC.Concurrent").GetBoolean());
        Assert.Equal(5, properties.GetProperty("System.GC.ConserveMemory").GetInt32());
    }
}
