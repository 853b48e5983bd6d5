using FlagExport.Collector.Cli;

namespace FlagExport.Collector.Tests.Cli;

/// <summary>Which tokens go to the host's configuration and which to the parser.</summary>
public sealed class ConfigurationArgumentsTests
{
    private static readonly HashSet<string> Declared = new(StringComparer.Ordinal) { "--config", "--urls", "--version", "--help" };

    [Fact]
    public void Split_KeysWithAColonAndKnownKeys_GoToTheHost_WithTheirValues()
    {
        var split = ConfigurationArguments.Split(
            ["--config", "c.yaml", "--exporters:0:kind", "file", "--maxRequestBodySize", "1024", "--Logging:LogLevel:Default=Debug", "--environment", "Staging"],
            Declared);

        Assert.Equal(["--config", "c.yaml"], split.ForParser);
        Assert.Equal(["--exporters:0:kind", "file", "--maxRequestBodySize", "1024", "--Logging:LogLevel:Default=Debug", "--environment", "Staging"], split.Pairs);
        Assert.Empty(split.Errors);
    }

    [Fact]
    public void Split_UnknownFlagsAndDeclaredOptions_StayWithTheParser()
    {
        var split = ConfigurationArguments.Split(["--helpme", "--urls", "http://127.0.0.1:0", "--version", "stray", "-x"], Declared);

        Assert.Equal(["--helpme", "--urls", "http://127.0.0.1:0", "--version", "stray", "-x"], split.ForParser);
        Assert.Empty(split.Pairs);
    }

    [Fact]
    public void Split_AKeyWithoutAValue_IsAnErrorNamingIt()
    {
        var split = ConfigurationArguments.Split(["--exporters:0:kind", "--config", "c.yaml"], Declared);

        Assert.Equal(["--config", "c.yaml"], split.ForParser);
        Assert.Empty(split.Pairs);
        Assert.Contains("--exporters:0:kind", Assert.Single(split.Errors), StringComparison.Ordinal);
    }
}
