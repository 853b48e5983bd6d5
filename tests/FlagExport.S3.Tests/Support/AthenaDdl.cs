using System.Text.RegularExpressions;

namespace FlagExport.S3.Tests.Support;

/// <summary>
/// The parts of an Athena <c>CREATE EXTERNAL TABLE ... PARTITIONED BY ... STORED AS ... LOCATION ... TBLPROPERTIES</c>
/// statement that a shape check compares: enough of the grammar for the guide's DDL, not a SQL parser.
/// </summary>
internal sealed partial record AthenaDdl(
    string Table,
    List<(string Name, string Type)> Columns,
    List<(string Name, string Type)> Partitions,
    string StoredAs,
    string Location,
    Dictionary<string, string> Properties)
{
    public static AthenaDdl Parse(string sql)
    {
        Match statement = Statement().Match(sql);
        Assert.True(statement.Success, $"Not a CREATE EXTERNAL TABLE (...) PARTITIONED BY (...) STORED AS ... LOCATION '...' TBLPROPERTIES (...); statement:\n{sql}");
        return new AthenaDdl(
            statement.Groups["table"].Value,
            ColumnList(statement.Groups["columns"].Value),
            ColumnList(statement.Groups["partitions"].Value),
            statement.Groups["format"].Value,
            statement.Groups["location"].Value,
            Property().Matches(statement.Groups["properties"].Value).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal));
    }

    private static List<(string, string)> ColumnList(string list) =>
        [.. Column().Matches(list).Select(m => (m.Groups["name"].Value, m.Groups["type"].Value))];

    [GeneratedRegex(
        @"CREATE EXTERNAL TABLE (?<table>\w+) \((?<columns>.*?)\)\s*PARTITIONED BY \((?<partitions>.*?)\)\s*STORED AS (?<format>\w+)\s*LOCATION '(?<location>[^']*)'\s*TBLPROPERTIES \((?<properties>.*)\)\s*;",
        RegexOptions.Singleline)]
    private static partial Regex Statement();

    /// <summary>A column: <c>`name` type</c>, the type possibly <c>map&lt;string,string&gt;</c>.</summary>
    [GeneratedRegex(@"`(?<name>\w+)`\s+(?<type>\w+(?:<[^>]*>)?)")]
    private static partial Regex Column();

    [GeneratedRegex(@"'(?<name>[^']+)'\s*=\s*'(?<value>[^']*)'")]
    private static partial Regex Property();
}
