using System.Globalization;
using FlagExport.Testing.Markdown;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlagExport.Snippets.Tests.CSharpSnippets;

/// <summary>
/// Compiles a C# block as the console program a reader would paste it into: top-level statements, nullable enabled,
/// the latest language version, and the implicit usings of a new console project (<c>dotnet new console</c>); every
/// other <c>using</c> must be in the snippet.
/// </summary>
internal static class SnippetCompiler
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly CSharpCompilationOptions Options = new(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable);

    // The Microsoft.NET.Sdk's ImplicitUsings for a console project.
    private static readonly SyntaxTree ImplicitUsings = CSharpSyntaxTree.ParseText(
        """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """,
        ParseOptions,
        path: "ImplicitUsings.g.cs");

    /// <summary>The snippet's compilation; its diagnostics are computed on demand.</summary>
    public static CSharpCompilation Compile(FencedBlock snippet)
    {
        SyntaxTree tree = CSharpSyntaxTree.ParseText(snippet.Body, ParseOptions, path: snippet.File);
        return CSharpCompilation.Create("Snippet", [ImplicitUsings, tree], SnippetReferences.Instance.References, Options);
    }

    /// <summary>The compilation's errors, each as <c>file:line: error CSxxxx: message</c> at its line in the Markdown file.</summary>
    public static IReadOnlyList<string> Errors(FencedBlock snippet, CSharpCompilation compilation) =>
        [
            .. compilation.GetDiagnostics()
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .Select(d => string.Create(
                    CultureInfo.InvariantCulture,
                    $"{snippet.File}:{snippet.FileLine(d.Location.GetLineSpan().StartLinePosition.Line)}: error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}")),
        ];
}
