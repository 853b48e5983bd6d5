using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlagExport.Collector.Configuration;

/// <summary>
/// Where the collector keeps the events it acknowledged until they are exported: the durable buffer's folder, or memory
/// when <c>bufferDirectory</c> is <c>""</c> or <c>none</c>. Read from the library's bound and validated
/// <see cref="DurableBufferOptions"/>, so YAML, appsettings, environment variables and the command line all reach it
/// through one binder; the collector's default folder (<see cref="DefaultDirectory"/>) is the lowest configuration source.
/// </summary>
internal sealed class BufferFolder
{
    /// <summary>The default <c>bufferDirectory</c>: <c>buffer</c> under the working folder (the systemd unit's <c>StateDirectory</c>).</summary>
    public const string DefaultDirectory = "buffer";

    /// <summary>The YAML key that names the folder.</summary>
    public const string Key = "bufferDirectory";

    private BufferFolder(string? fullPath, long maxBytes)
    {
        FullPath = fullPath;
        MaxBytes = maxBytes;
    }

    /// <summary>The absolute folder of the durable buffer; <see langword="null"/> in memory mode.</summary>
    public string? FullPath { get; }

    /// <summary>The buffer's bound on disk (<c>maxBufferBytes</c>).</summary>
    public long MaxBytes { get; }

    /// <summary>The buffer the host's options describe.</summary>
    /// <exception cref="OptionsValidationException">The options are invalid (reported with the others at start).</exception>
    public static BufferFolder Of(IServiceProvider services)
    {
        DurableBufferOptions options = services.GetRequiredService<IOptions<DurableBufferOptions>>().Value;
        return new BufferFolder(options.Enabled ? Path.GetFullPath(options.BufferDirectory!) : null, options.MaxBufferBytes);
    }

    /// <summary>One line: the mode, and where (durable) or what a crash costs (memory).</summary>
    public string Describe() => FullPath is { } folder
        ? string.Create(CultureInfo.InvariantCulture, $"Durable buffer in {folder} (maxBufferBytes {MaxBytes}): a 200 means the events are on disk")
        : $"Events are held in memory ({Key} is empty or none): a crash loses those not yet written";

    /// <summary>
    /// Whether the folder can be used, naming it, or null (always null in memory mode). With <paramref name="create"/>
    /// the folder is created if missing and a file written and deleted in it, as start-up needs; without, nothing is left
    /// behind: the nearest existing folder on its path must be a folder in which a file can be written.
    /// </summary>
    public string? Problem(bool create)
    {
        if (FullPath is not { } folder)
        {
            return null;
        }

        try
        {
            string probed = folder;
            if (create)
            {
                _ = Directory.CreateDirectory(folder);
            }
            else
            {
                while (!Directory.Exists(probed))
                {
                    if (File.Exists(probed))
                    {
                        return $"{Key}: the buffer folder '{folder}' cannot be created: '{probed}' is a file.";
                    }

                    probed = Path.GetDirectoryName(probed) ?? throw new IOException($"No part of '{folder}' exists.");
                }
            }

            string probe = Path.Combine(probed, $".flagexport-write-check-{Guid.NewGuid():N}.tmp");
            using (var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                stream.WriteByte(0);
            }

            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return $"{Key}: the buffer folder '{folder}' cannot be created or written: {exception.Message}";
        }
    }
}
