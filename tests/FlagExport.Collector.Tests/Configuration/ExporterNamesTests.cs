using FlagExport.Collector.Configuration;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Tests.Configuration;

/// <summary>
/// An exporter's name is its identity (options key, cursor, dead letters, metrics): its entry's <c>name</c>, or derived
/// from what it writes to, so that editing the list around it never hands its cursor to another exporter.
/// </summary>
public sealed class ExporterNamesTests
{
    [Fact]
    public void DerivedNames_DoNotDependOnThePosition()
    {
        Dictionary<string, string?> file = new() { ["kind"] = "file", ["outputDir"] = "/var/flags/a" };
        Dictionary<string, string?> s3 = new() { ["kind"] = "s3", ["bucket"] = "events", ["path"] = "flags/" };
        Dictionary<string, string?> other = new() { ["kind"] = "file", ["outputDir"] = "/var/flags/b" };

        IReadOnlyList<ExporterSpec> before = Read(file, s3, other);
        IReadOnlyList<ExporterSpec> after = Read(other, file);

        Assert.Equal(before[0].Name, after[1].Name);
        Assert.Equal(before[2].Name, after[0].Name);
        Assert.Equal(3, before.Select(e => e.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(before, e => Assert.False(e.Named));
    }

    [Fact]
    public void DerivedNames_AreReadable_Valid_AndDistinctForDistinctDestinations()
    {
        string a = ExporterNames.Derive("file:/var/flags/a");
        string b = ExporterNames.Derive("file:/var/flags/b");
        string s3 = ExporterNames.Derive("s3:events/flags");

        Assert.Matches("^file-var-flags-a-[0-9a-f]{8}$", a);
        Assert.Matches("^s3-events-flags-[0-9a-f]{8}$", s3);
        Assert.NotEqual(a, b);
        Assert.Equal(a, ExporterNames.Derive("file:/var/flags/a"));
        // Destinations that differ only in characters the readable part drops still differ by their hash.
        Assert.NotEqual(ExporterNames.Derive("file:/var/a-b"), ExporterNames.Derive("file:/var/a_b"));
        string longest = ExporterNames.Derive("file:/" + string.Join('/', Enumerable.Repeat("a-rather-long-folder-name", 10)));
        Assert.All(new[] { a, b, s3, longest }, name => Assert.True(ExporterNames.IsValid(name), name));
    }

    [Fact]
    public void Destination_IsTheFullPathOrTheBucketAndPrefix()
    {
        IReadOnlyList<ExporterSpec> exporters = Read(
            new() { ["kind"] = "file", ["outputDir"] = "relative/dir/" },
            new() { ["kind"] = "s3", ["bucket"] = "events", ["path"] = "/flags/dt=x/" },
            new() { ["kind"] = "file" });

        Assert.Equal("file:" + Path.GetFullPath("relative/dir"), exporters[0].Destination);
        Assert.Equal("s3:events/flags/dt=x", exporters[1].Destination);
        Assert.Equal("file:" + Path.GetFullPath("exports"), exporters[2].Destination);
    }

    [Fact]
    public void WrittenName_IsTheName_WhateverTheDestination()
    {
        IReadOnlyList<ExporterSpec> exporters = Read(
            new() { ["kind"] = "file", ["name"] = "archive", ["outputDir"] = "/same" },
            new() { ["kind"] = "file", ["name"] = "mirror.v2", ["outputDir"] = "/same" });

        Assert.Equal(["archive", "mirror.v2"], exporters.Select(e => e.Name));
        Assert.All(exporters, e => Assert.True(e.Named));
    }

    private static IReadOnlyList<ExporterSpec> Read(params Dictionary<string, string?>[] entries)
    {
        var values = new Dictionary<string, string?>();
        for (int i = 0; i < entries.Length; i++)
        {
            foreach ((string key, string? value) in entries[i])
            {
                values[$"exporters:{i}:{key}"] = value;
            }
        }

        var errors = new List<string>();
        CollectorSettings settings = CollectorSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), errors);
        Assert.Empty(errors);
        return settings.Exporters;
    }
}
