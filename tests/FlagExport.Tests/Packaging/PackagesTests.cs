using System.Diagnostics;
using System.Text;

namespace FlagExport.Tests.Packaging;

/// <summary>
/// Runs tests/packages/check.sh, so that ./test.sh counts the packages as a user gets them: packed, referenced by
/// package from a consumer project, and the collector installed as a tool.
/// </summary>
public sealed class PackagesTests
{
    // A cold Release pack of every package takes about two minutes on 2 cores, and the README's app restores from an
    // empty cache (about a minute more); the limit leaves room for a busy machine.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(12);

    [Fact]
    public async Task Packages_pack_restore_by_package_and_install_as_a_tool()
    {
        string script = Path.Combine(RepositoryRoot(), "tests", "packages", "check.sh");
        var start = new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true); // its trap removes the temporary folder
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"check.sh did not finish within {Timeout}:\n{Text(output)}");
        }

        process.WaitForExit(); // the last output lines
        TestContext.Current.TestOutputHelper?.WriteLine(Text(output));
        Assert.True(process.ExitCode == 0, $"check.sh exited with {process.ExitCode}:\n{Text(output)}");
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "FlagExport.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"FlagExport.slnx not found above {AppContext.BaseDirectory}");
    }
}
