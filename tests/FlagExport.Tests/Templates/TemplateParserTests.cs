using FlagExport.Templates;

namespace FlagExport.Tests.Templates;

public sealed class TemplateParserTests
{
    private const string FeatureFields =
        "Kind, ContextKind, UserKey, CreationDate, Key, Variation, Value, Default, Version, Source, Metadata, FormattedDate";

    [Theory]
    [InlineData("{{.Kind}}")]
    [InlineData("{{ .Kind}}")]
    [InlineData("{{ .Kind }}")]
    [InlineData("{{\t.Kind\t}}")]
    [InlineData("{{\n  .Kind\n}}")]
    [InlineData("{{\r\n.Kind\r\n}}")]
    public void Parse_WhitespaceInsideBraces_GivesOneField(string text)
    {
        CompiledTemplate template = Parse(text);

        TemplateSegment segment = Assert.Single(template.Segments);
        Assert.Equal((int)FeatureCsvField.Kind, segment.FieldId);
    }

    [Fact]
    public void Parse_LiteralsAndFields_GivesSegmentsInOrder()
    {
        CompiledTemplate template = Parse("a{{ .Kind}};{{ .Key}}\n");

        Assert.Equal(
            ["lit:a", "field:Kind", "lit:;", "field:Key", "lit:\n"],
            template.Segments.Select(Describe));
    }

    [Fact]
    public void Parse_LiteralSegment_HoldsUtf8Bytes()
    {
        CompiledTemplate template = Parse("é;{{ .Kind}}");

        Assert.Equal("é;"u8.ToArray(), template.Segments[0].Utf8);
    }

    [Fact]
    public void Parse_AdjacentFields_HaveNoEmptyLiteralBetween()
    {
        CompiledTemplate template = Parse("{{ .Kind}}{{ .Key}}");

        Assert.Equal(["field:Kind", "field:Key"], template.Segments.Select(Describe));
    }

    [Fact]
    public void Parse_EmptyText_GivesNoSegments()
    {
        Assert.Empty(Parse("").Segments);
    }

    [Fact]
    public void Parse_StrayClosingBraces_AreLiteralAsInGo()
    {
        CompiledTemplate template = Parse("a}}b{{ .Kind}}}}");

        Assert.Equal(["lit:a}}b", "field:Kind", "lit:}}"], template.Segments.Select(Describe));
    }

    [Fact]
    public void Parse_SingleBrace_IsLiteral()
    {
        Assert.Equal(["lit:{x}"], Parse("{x}").Segments.Select(Describe));
    }

    [Fact]
    public void Parse_BackslashN_StaysTwoLiteralCharactersAsInGo()
    {
        CompiledTemplate template = Parse(@"{{ .Kind}}\n");

        Assert.Equal(["field:Kind", @"lit:\n"], template.Segments.Select(Describe));
    }

    [Fact]
    public void Parse_LeftTrimMarker_RemovesWhitespaceBefore()
    {
        Assert.Equal(["lit:a", "field:Kind"], Parse("a \t\n {{- .Kind}}").Segments.Select(Describe));
    }

    [Fact]
    public void Parse_RightTrimMarker_RemovesWhitespaceAfter()
    {
        Assert.Equal(["field:Kind", "lit:b"], Parse("{{ .Kind -}} \n b").Segments.Select(Describe));
    }

    [Fact]
    public void Parse_TrimMarkersOnBothSides_JoinLiterals()
    {
        Assert.Equal(["lit:a", "field:Kind", "lit:b"], Parse("a {{- .Kind -}} b").Segments.Select(Describe));
    }

    [Fact]
    public void Parse_KeepsTextAndOptionName()
    {
        CompiledTemplate template = Parse("{{ .Kind}}");

        Assert.Equal(("{{ .Kind}}", "CsvTemplate"), (template.Text, template.OptionName));
    }

    [Fact]
    public void Uses_ReportsReferencedFieldsOnly()
    {
        CompiledTemplate template = Parse("{{ .Kind}}");

        Assert.True(template.Uses((int)FeatureCsvField.Kind));
        Assert.False(template.Uses((int)FeatureCsvField.Key));
    }

    [Fact]
    public void Render_TakesFieldValuesById()
    {
        CompiledTemplate template = TemplateParser.Parse("{{ .Year}}/{{ .Month}}-x", TemplateFieldSets.Partition, "S3Path");

        Assert.Equal("2021/04-x", template.Render(["2021", "04", "09", "12"]));
    }

    [Fact]
    public void Parse_UnknownField_ListsValidFields()
    {
        AssertError(
            "a;{{ .Foo}}",
            $"Invalid CsvTemplate at line 1, column 6: unknown field '.Foo'; valid fields for feature events are {FeatureFields}.");
    }

    [Fact]
    public void Parse_FieldWithWrongCase_SuggestsTheField()
    {
        AssertError(
            "{{ .kind}}",
            "Invalid CsvTemplate at line 1, column 4: unknown field '.kind' (did you mean '.Kind'? field names are case-sensitive); " +
            $"valid fields for feature events are {FeatureFields}.");
    }

    [Fact]
    public void Parse_FeatureFieldInTrackingTemplate_IsUnknown()
    {
        var error = Assert.Throws<ArgumentException>(
            () => TemplateParser.Parse("{{ .Variation}}", TemplateFieldSets.TrackingCsv, "CsvTemplate"));

        Assert.Equal(
            "Invalid CsvTemplate at line 1, column 4: unknown field '.Variation'; valid fields for tracking events are " +
            "Kind, ContextKind, UserKey, CreationDate, Key, EvaluationContext, TrackingEventDetails, FormattedDate. (Parameter 'CsvTemplate')",
            error.Message);
    }

    [Fact]
    public void Parse_ErrorOnLaterLine_GivesLineAndColumn()
    {
        AssertErrorStartsWith("{{ .Kind}}\nab{{ .Nope}}", "Invalid CsvTemplate at line 2, column 6: unknown field '.Nope'");
    }

    [Fact]
    public void Parse_ColumnCountsCharactersNotBytes()
    {
        AssertErrorStartsWith("é😀{{ .Nope}}", "Invalid CsvTemplate at line 1, column 6: unknown field '.Nope'");
    }

    [Fact]
    public void Parse_UnclosedAction_PointsAtOpeningBraces()
    {
        AssertError("{{ .Kind}};{{ .Key", "Invalid CsvTemplate at line 1, column 12: '{{' is never closed by '}}'.");
    }

    [Fact]
    public void Parse_UnclosedActionWithSingleBrace_IsUnclosed()
    {
        AssertError("x{{ .Kind}", "Invalid CsvTemplate at line 1, column 2: '{{' is never closed by '}}'.");
    }

    [Theory]
    [InlineData("{{}}")]
    [InlineData("{{  }}")]
    [InlineData("{{- -}}")]
    public void Parse_EmptyAction_IsAnError(string text)
    {
        AssertError(text, "Invalid CsvTemplate at line 1, column 1: empty action '{{ }}'; " + Supported);
    }

    [Theory]
    [InlineData("if")]
    [InlineData("range")]
    [InlineData("end")]
    [InlineData("else")]
    [InlineData("with")]
    [InlineData("template")]
    public void Parse_ControlAction_IsNotSupported(string keyword)
    {
        AssertError(
            $"x{{{{ {keyword} .Default }}}}",
            $"Invalid CsvTemplate at line 1, column 5: '{{{{ {keyword} }}}}' actions are not supported; " + Supported);
    }

    [Fact]
    public void Parse_Pipeline_IsNotSupported()
    {
        AssertError(
            "{{ .Kind | printf \"%q\" }}",
            "Invalid CsvTemplate at line 1, column 10: pipelines ('|') are not supported; " + Supported);
    }

    [Fact]
    public void Parse_FunctionCall_IsNotSupported()
    {
        AssertError(
            "{{ printf \"%v\" .Kind }}",
            "Invalid CsvTemplate at line 1, column 4: function calls ('printf') are not supported; " + Supported);
    }

    [Fact]
    public void Parse_Variable_IsNotSupported()
    {
        AssertError(
            "{{ $x := .Kind }}",
            "Invalid CsvTemplate at line 1, column 4: variables ('$x') are not supported; " + Supported);
    }

    [Fact]
    public void Parse_Comment_IsNotSupported()
    {
        AssertError(
            "{{/* a comment */}}",
            "Invalid CsvTemplate at line 1, column 3: comments '{{/* */}}' are not supported; " + Supported);
    }

    [Theory]
    [InlineData("{{ \"text\" }}", "'\"text\"'")]
    [InlineData("{{ 42 }}", "'42'")]
    [InlineData("{{ true }}", "'true'")]
    public void Parse_Constant_IsNotSupported(string text, string shown)
    {
        AssertError(text, $"Invalid CsvTemplate at line 1, column 4: constants ({shown}) are not supported; " + Supported);
    }

    [Fact]
    public void Parse_Dot_IsNotSupported()
    {
        AssertError(
            "{{ . }}",
            "Invalid CsvTemplate at line 1, column 4: '{{ . }}' (the whole value) is not supported; name a field; " + Supported);
    }

    [Fact]
    public void Parse_NestedField_IsNotSupported()
    {
        AssertError(
            "{{ .Metadata.env }}",
            "Invalid CsvTemplate at line 1, column 4: nested field '.Metadata.env' is not supported; " + Supported);
    }

    [Fact]
    public void Parse_TwoFieldsInOneAction_IsAnError()
    {
        AssertError(
            "{{ .Kind .Key }}",
            "Invalid CsvTemplate at line 1, column 10: unexpected '.Key' after '.Kind'; an action holds exactly one field reference; " + Supported);
    }

    [Fact]
    public void Parse_Error_NamesTheOptionAsParameter()
    {
        var error = Assert.Throws<ArgumentException>(() => TemplateParser.Parse("{{ .X}}", TemplateFieldSets.Filename, "Filename"));

        Assert.Equal("Filename", error.ParamName);
        Assert.StartsWith("Invalid Filename at line 1, column 4: unknown field '.X'; valid fields for file names are Hostname, Timestamp, Format, UUID, Sequence.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FieldSets_Partition_HasDateFields()
    {
        Assert.Equal(["Year", "Month", "Day", "Hour"], TemplateFieldSets.Partition.Names);
    }

    [Fact]
    public void Parse_RandomInput_SucceedsOrThrowsArgumentExceptionOnly()
    {
        // Fragments that stress the scanner's edges: braces, trim markers, dots, names, ends of text.
        string[] pieces = ["{{", "}}", "{", "}", "-", " ", "\n", ".", ".Kind", "Kind", "$", "|", "/*", "*/", "\"", "é", "😀"];
        var random = new Random(42);
        for (int i = 0; i < 20_000; i++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(1, 9)).Select(_ => pieces[random.Next(pieces.Length)]));
            try
            {
                CompiledTemplate template = Parse(text);
                Assert.All(template.Segments, segment => Assert.True(segment.IsLiteral ? segment.Text!.Length > 0 : segment.FieldId >= 0));
            }
            catch (ArgumentException error)
            {
                // Not a subclass such as ArgumentOutOfRangeException from a slip in the scanner.
                Assert.Equal(typeof(ArgumentException), error.GetType());
                Assert.StartsWith("Invalid CsvTemplate at line ", error.Message, StringComparison.Ordinal);
            }
        }
    }

    private const string Supported = "only field references such as '{{ .Kind }}' are supported. (Parameter 'CsvTemplate')";

    private static CompiledTemplate Parse(string text) => TemplateParser.Parse(text, TemplateFieldSets.FeatureCsv, "CsvTemplate");

    private static string Describe(TemplateSegment segment) =>
        segment.IsLiteral ? "lit:" + segment.Text : "field:" + TemplateFieldSets.FeatureCsv.Names[segment.FieldId];

    private static void AssertError(string text, string expectedWithoutParameter)
    {
        var error = Assert.Throws<ArgumentException>(() => Parse(text));
        string expected = expectedWithoutParameter.EndsWith("(Parameter 'CsvTemplate')", StringComparison.Ordinal)
            ? expectedWithoutParameter
            : expectedWithoutParameter + " (Parameter 'CsvTemplate')";
        Assert.Equal(expected, error.Message);
        Assert.Equal("CsvTemplate", error.ParamName);
    }

    private static void AssertErrorStartsWith(string text, string expectedStart)
    {
        var error = Assert.Throws<ArgumentException>(() => Parse(text));
        Assert.StartsWith(expectedStart, error.Message, StringComparison.Ordinal);
    }
}
