using System.Collections.Concurrent;
using FlagExport.Formats;
using FlagExport.Templates;

namespace FlagExport.Tests.Templates;

public sealed class FilenameTemplateTests
{
    private static readonly Guid SomeUuid = Guid.Parse("0F8FAD5B-D9CB-469F-A165-70867728950E");

    [Fact]
    public void Render_DefaultTemplate_GivesGoFeatureFlagName()
    {
        string name = FilenameTemplate.Default.Render("host-1", 1617970547, ExportFormat.Csv, SomeUuid, 1);

        Assert.Equal("flag-variation-host-1-1617970547.csv", name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Parse_NullOrEmpty_GivesDefault(string? text)
    {
        Assert.Same(FilenameTemplate.Default, FilenameTemplate.Parse(text));
    }

    [Theory]
    [InlineData("JSON", "json")]
    [InlineData("Csv", "csv")]
    [InlineData("PARQUET", "parquet")]
    public void Render_Format_IsLowerCaseExtension(string option, string expected)
    {
        ExportFormat format = ExportFormats.Parse(option, "Format");

        Assert.Equal(expected, FilenameTemplate.Parse("{{ .Format}}").Render("h", 0, format, SomeUuid, 1));
    }

    [Fact]
    public void Render_Uuid_IsLowerCaseWithHyphens()
    {
        string name = FilenameTemplate.Parse("f-{{ .UUID}}.{{ .Format}}").Render("h", 0, ExportFormat.Json, SomeUuid, 1);

        Assert.Equal("f-0f8fad5b-d9cb-469f-a165-70867728950e.json", name);
    }

    [Fact]
    public void Render_Sequence_IsInvariantInteger()
    {
        string name = FilenameTemplate.Parse("f-{{ .Sequence}}").Render("h", 0, ExportFormat.Json, SomeUuid, 12345);

        Assert.Equal("f-12345", name);
    }

    [Fact]
    public void Render_AllFieldsWithWhitespaceForms_RenderInOrder()
    {
        FilenameTemplate template = FilenameTemplate.Parse("{{.Hostname}}_{{ .Timestamp }}_{{\n.Sequence\n}}_{{ .UUID}}.{{ .Format}}");

        Assert.Equal(
            "h_-5_7_0f8fad5b-d9cb-469f-a165-70867728950e.parquet",
            template.Render("h", -5, ExportFormat.Parquet, SomeUuid, 7));
    }

    [Fact]
    public void Render_DrawnSequence_IncreasesFromOneRenderToTheNext()
    {
        FilenameTemplate template = FilenameTemplate.Parse("{{ .Sequence}}");

        long first = long.Parse(template.Render("h", 0, ExportFormat.Json), System.Globalization.CultureInfo.InvariantCulture);
        long second = long.Parse(template.Render("h", 0, ExportFormat.Json), System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(first >= 1, $"first was {first}");
        Assert.True(second > first, $"{second} after {first}");
    }

    [Fact]
    public void NextSequence_FromManyThreads_NeverRepeats()
    {
        var seen = new ConcurrentBag<long>();

        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                seen.Add(FilenameTemplate.NextSequence());
            }
        });

        Assert.Equal(40_000, seen.Distinct().Count());
    }

    [Fact]
    public void Render_DrawnUuid_IsNewForEachFile()
    {
        FilenameTemplate template = FilenameTemplate.Parse("{{ .UUID}}");

        string[] names = [.. Enumerable.Range(0, 1000).Select(_ => template.Render("h", 0, ExportFormat.Json))];

        Assert.Equal(1000, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, name => Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", name));
    }

    [Fact]
    public void UsesUuidAndSequence_ReflectTheTemplate()
    {
        FilenameTemplate template = FilenameTemplate.Parse("{{ .UUID}}");

        Assert.Equal((true, false), (template.UsesUuid, template.UsesSequence));
        Assert.Equal((false, false), (FilenameTemplate.Default.UsesUuid, FilenameTemplate.Default.UsesSequence));
    }

    [Theory]
    [InlineData("dir/{{ .Timestamp}}", 4, "'/'")]
    [InlineData("dir\\{{ .Timestamp}}", 4, "'\\'")]
    [InlineData("{{ .Timestamp}}/x", 16, "'/'")]
    [InlineData("a\nb", 2, "U+000A")]
    public void Parse_PathCharacterInLiteral_IsAnError(string text, int column, string shown)
    {
        var error = Assert.Throws<ArgumentException>(() => FilenameTemplate.Parse(text));

        Assert.Equal(
            $"Invalid Filename at line 1, column {column}: a file name cannot contain {shown}; it is one name inside the output folder, not a path. (Parameter 'Filename')",
            error.Message);
    }

    [Fact]
    public void Parse_NewlineRemovedByTrimMarker_IsAllowed()
    {
        Assert.Equal("ah", FilenameTemplate.Parse("a\n{{- .Hostname}}").Render("h", 0, ExportFormat.Json, SomeUuid, 1));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public void Parse_DotNames_AreAnError(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => FilenameTemplate.Parse(text, "FileName"));

        Assert.Equal($"Invalid FileName: '{text}' is not a file name. (Parameter 'FileName')", error.Message);
    }

    [Fact]
    public void Parse_DoubleDotsInsideName_AreAllowed()
    {
        Assert.Equal("a..json", FilenameTemplate.Parse("a..{{ .Format}}").Render("h", 0, ExportFormat.Json, SomeUuid, 1));
    }

    [Fact]
    public void Parse_NewlineInsideAction_IsAllowed()
    {
        Assert.Equal("h", FilenameTemplate.Parse("{{\n.Hostname\n}}").Render("h", 0, ExportFormat.Json, SomeUuid, 1));
    }

    [Fact]
    public void Parse_UnknownField_ListsFilenameFields()
    {
        var error = Assert.Throws<ArgumentException>(() => FilenameTemplate.Parse("f-{{ .Date}}"));

        Assert.Equal(
            "Invalid Filename at line 1, column 6: unknown field '.Date'; valid fields for file names are Hostname, Timestamp, Format, UUID, Sequence. (Parameter 'Filename')",
            error.Message);
    }

    [Fact]
    public void Parse_RandomInput_NeverGivesAPathOrCrashes()
    {
        string[] pieces = ["{{", "}}", "{{- ", " -}}", ".Hostname", ".Format", "/", "\\", "\n", ".", "..", "a", " "];
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(1, 7)).Select(_ => pieces[random.Next(pieces.Length)]));
            FilenameTemplate template;
            try
            {
                template = FilenameTemplate.Parse(text);
            }
            catch (ArgumentException error)
            {
                Assert.Equal(typeof(ArgumentException), error.GetType());
                continue;
            }

            string name = template.Render("h", 1, ExportFormat.Json, SomeUuid, 1);
            Assert.DoesNotContain('/', name);
            Assert.DoesNotContain('\\', name);
            Assert.NotEqual("..", name);
        }
    }

    [Fact]
    public void Render_HostnameWithSlash_IsAnError()
    {
        var error = Assert.Throws<ArgumentException>(
            () => FilenameTemplate.Default.Render("a/b", 1, ExportFormat.Json, SomeUuid, 1));

        Assert.Equal(
            "Filename 'flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}' gave 'flag-variation-a/b-1.json', which is not a file name. (Parameter 'hostname')",
            error.Message);
    }
}
