namespace FlagExport;

/// <summary>Options of <see cref="FileExporter"/>.</summary>
public sealed class FileExporterOptions : ExportFileOptions
{
    /// <summary>The default for <see cref="OutputDir"/>.</summary>
    internal const string DefaultOutputDir = "./exports";

    /// <summary>
    /// The folder the files are written to, created when missing; relative paths are relative to the current directory.
    /// The default value is <c>./exports</c>.
    /// </summary>
    public string OutputDir { get; set; } = DefaultOutputDir;
}
