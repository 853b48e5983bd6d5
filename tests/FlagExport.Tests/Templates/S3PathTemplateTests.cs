using FlagExport.Templates;

namespace FlagExport.Tests.Templates;

public sealed class S3PathTemplateTests
{
    [Fact]
    public void Render_DateFields_AreZeroPaddedUtc()
    {
        // 2021-04-09T02:05:07Z
        long creationDate = new DateTimeOffset(2021, 4, 9, 2, 5, 7, TimeSpan.Zero).ToUnixTimeSeconds();

        string path = S3PathTemplate.Parse("events/{{ .Year}}/{{ .Month}}/{{ .Day}}/{{ .Hour}}/").Render(creationDate);

        Assert.Equal("events/2021/04/09/02/", path);
    }

    [Fact]
    public void Parse_Null_RendersEmptyPrefix()
    {
        Assert.Equal("", S3PathTemplate.Parse(null).Render(0));
    }

    [Fact]
    public void Render_DateBeyondYear9999_IsClamped()
    {
        Assert.Equal("9999-12-31-23", S3PathTemplate.Parse("{{ .Year}}-{{ .Month}}-{{ .Day}}-{{ .Hour}}").Render(long.MaxValue));
    }

    [Fact]
    public void Parse_FilenameField_IsUnknown()
    {
        var error = Assert.Throws<ArgumentException>(() => S3PathTemplate.Parse("{{ .Hostname}}/"));

        Assert.Equal(
            "Invalid S3Path at line 1, column 4: unknown field '.Hostname'; valid fields for S3 paths are Year, Month, Day, Hour. (Parameter 'S3Path')",
            error.Message);
    }
}
