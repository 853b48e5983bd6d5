using System.Diagnostics;

namespace FlagExport.Tests.Exporters;

/// <summary>A small tmpfs mounted on a test folder: a disk that fills up, then grows when the operator frees space.</summary>
internal static class Tmpfs
{
    /// <summary>Skips the test unless it runs as root on Linux, where it can mount.</summary>
    public static void RequireRoot()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Assert.Skip("Needs root to mount a small tmpfs as a full output disk.");
        }
    }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (<c>256k</c>, <c>64m</c>) on <paramref name="folder"/>.</summary>
    public static Task MountAsync(string folder, string size) => RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", folder);

    /// <summary>Changes the size of the tmpfs on <paramref name="folder"/>, keeping its files.</summary>
    public static Task ResizeAsync(string folder, string size) => RunAsync("mount", "-o", $"remount,size={size}", folder);

    public static Task UnmountAsync(string folder) => RunAsync("umount", folder);

    private static async Task RunAsync(string command, params string[] arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        string error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)}: {error}");
    }
}
