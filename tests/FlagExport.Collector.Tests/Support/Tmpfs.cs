using System.Diagnostics;
using System.Globalization;

namespace FlagExport.Collector.Tests.Support;

/// <summary>
/// A small tmpfs mounted on a folder: a disk that fills up for real. Mounting needs root; <see cref="MountOrSkip"/> skips
/// the test otherwise.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> on <paramref name="path"/> (created if needed).</summary>
    public static Tmpfs MountOrSkip(string path, long bytes)
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            Assert.Skip("Mounting a tmpfs (a disk that really fills up) needs Linux and root.");
        }

        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={bytes}"), "tmpfs", path);
        return new Tmpfs(path);
    }

    /// <summary>Writes a file of <paramref name="bytes"/> on the tmpfs, taking that much of its room.</summary>
    public string Fill(string name, int bytes)
    {
        string file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, new byte[bytes]);
        return file;
    }

    /// <summary>Changes the size of the tmpfs to <paramref name="bytes"/>, keeping its files: the operator freed room.</summary>
    public void Resize(long bytes) => Run("mount", "-o", string.Create(CultureInfo.InvariantCulture, $"remount,size={bytes}"), Path);

    /// <summary>Remounts the tmpfs read-only: writes fail with EROFS, for root too (which file modes do not stop).</summary>
    public void MakeReadOnly() => Run("mount", "-o", "remount,ro", Path);

    public void Dispose() => Run("umount", "-l", Path);

    private static void Run(string program, params string[] args)
    {
        using Process process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} failed: {error}");
    }
}
