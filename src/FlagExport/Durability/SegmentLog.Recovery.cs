using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace FlagExport.Durability;

internal sealed partial class SegmentLog
{
    /// <summary>Subfolder that damaged segments are moved into.</summary>
    internal const string QuarantineDirectoryName = "quarantine";

    /// <summary>Held with FileShare.None while the log is open, so two logs never write one directory.</summary>
    internal const string LockFileName = "lock";

    private const int ScanBufferBytes = 256 * 1024;

    /// <summary>
    /// Opens or creates the log in <paramref name="directory"/>, checking every record of every segment: a torn tail of the
    /// last segment is cut; any other damaged segment is moved into <c>quarantine/</c> and its positions are skipped.
    /// Damage never makes this throw; I/O errors on the directory itself do.
    /// </summary>
    public static SegmentLog Open(string directory, SegmentLogOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        logger ??= NullLogger.Instance;
        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);

        SafeFileHandle directoryLock;
        try
        {
            directoryLock = File.OpenHandle(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception)
        {
            throw new DurableBufferLockedException(directory, exception);
        }

        SafeFileHandle? activeFile = null;
        try
        {
            List<Segment> segments = Recover(directory, logger, out activeFile, out long activeRecords);
            return new SegmentLog(directory, options, logger, timeProvider ?? TimeProvider.System, directoryLock, segments, activeFile, activeRecords);
        }
        catch
        {
            activeFile?.Dispose();
            directoryLock.Dispose();
            throw;
        }
    }

    private static List<Segment> Recover(string directory, ILogger logger, out SafeFileHandle activeFile, out long activeRecords)
    {
        var files = new List<(long First, string Path)>();
        foreach (string path in Directory.EnumerateFiles(directory, "*" + SegmentFormat.Extension))
        {
            if (SegmentFormat.TryParseFileName(Path.GetFileName(path), out long first))
            {
                files.Add((first, path));
            }
        }

        files.Sort((a, b) => a.First.CompareTo(b.First));

        var kept = new List<SegmentScan>();
        long keptEnd = 0; // position after the last kept segment
        long floor = 0;   // positions a damaged segment after the last kept one may have used; new records start above
        bool removed = false;
        for (int i = 0; i < files.Count; i++)
        {
            (long first, string path) = files[i];
            bool isLast = i == files.Count - 1;
            SegmentScan scan;
            try
            {
                scan = Scan(path, first);
            }
            catch (IOException exception)
            {
                scan = new SegmentScan(path, first, HeaderValid: false, LengthOrZero(path), 0, 0, RecordStatus.Corrupt, $"unreadable: {exception.Message}");
            }

            // A record takes at least RecordHeaderSize bytes: a bound on the positions a damaged file can have used.
            long bound = first + (scan.FileLength / SegmentFormat.RecordHeaderSize);
            string? damage = null;
            if (!scan.HeaderValid)
            {
                if (isLast && scan.Error is null && scan.FileLength < SegmentFormat.HeaderSize)
                {
                    // A crash while creating the segment: the previous one was sealed and fsynced first, so nothing is lost.
                    File.Delete(path);
                    removed = true;
                    logger.TornSegmentDeleted(path, scan.FileLength);
                    floor = Math.Max(floor, first);
                    continue;
                }

                damage = scan.Error ?? "bad header";
            }
            else if (first < keptEnd)
            {
                damage = $"its first position {first} overlaps the previous segment, which ends at {keptEnd}";
            }
            else if (scan.Status != RecordStatus.End && !isLast)
            {
                damage = scan.Error ?? $"{scan.Status.ToString().ToLowerInvariant()} record at offset {scan.GoodLength} of {scan.FileLength} bytes";
            }

            if (damage is not null)
            {
                Quarantine(directory, path, damage, logger);
                removed = true;
                floor = Math.Max(floor, bound);
                continue;
            }

            if (scan.Status != RecordStatus.End)
            {
                using (SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete))
                {
                    RandomAccess.SetLength(file, scan.GoodLength);
                    RandomAccess.FlushToDisk(file);
                }

                logger.TornTailCut(path, scan.GoodLength, scan.FileLength - scan.GoodLength);
                scan = scan with { FileLength = scan.GoodLength, Status = RecordStatus.End };
            }

            kept.Add(scan);
            keptEnd = first + scan.Records;
            floor = 0; // a kept segment's positions are above those of every file before it
        }

        if (removed)
        {
            DirectorySync.Flush(directory);
        }

        var segments = new List<Segment>(kept.Count + 1);
        foreach (SegmentScan scan in kept)
        {
            segments.Add(new Segment(scan.Path, scan.First, scan.GoodLength, scan.First + scan.Records, isSealed: true));
        }

        long next = Math.Max(keptEnd, floor);
        if (kept.Count > 0 && next == keptEnd && kept[^1].Records == 0)
        {
            // Keep appending to the last segment, which holds no record yet.
            SegmentScan last = kept[^1];
            segments[^1] = new Segment(last.Path, last.First, last.GoodLength, keptEnd, isSealed: false);
            activeFile = File.OpenHandle(last.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            activeRecords = 0;
        }
        else
        {
            // A last segment with records stays sealed and appends start a new one: only sealed segments are released,
            // and its size limit was chosen for the capacity it was written under, which may exceed the capacity now;
            // left open, it would stay counted against the buffer for good once every consumer is past it.
            // fsynced first, as every segment before the last must be: a crash once the next one exists finds it whole.
            if (kept.Count > 0)
            {
                using SafeFileHandle last = File.OpenHandle(kept[^1].Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
                RandomAccess.FlushToDisk(last);
            }

            activeFile = CreateSegmentFile(directory, next, RandomAccess.FlushToDisk, out string path);
            segments.Add(new Segment(path, next, SegmentFormat.HeaderSize, next, isSealed: false));
            activeRecords = 0;
        }

        return segments;
    }

    /// <summary>Reads the header and every record of a segment file, stopping at the first bad one.</summary>
    private static SegmentScan Scan(string path, long nameFirst)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long fileLength = RandomAccess.GetLength(file);
        Span<byte> header = stackalloc byte[SegmentFormat.HeaderSize];
        int headerBytes = fileLength >= SegmentFormat.HeaderSize ? RandomAccess.Read(file, header, 0) : 0;
        if (headerBytes < SegmentFormat.HeaderSize || !SegmentFormat.TryReadHeader(header, out long headerFirst))
        {
            return new SegmentScan(path, nameFirst, HeaderValid: false, fileLength, 0, 0, RecordStatus.Corrupt, null);
        }

        if (headerFirst != nameFirst)
        {
            return new SegmentScan(path, nameFirst, HeaderValid: false, fileLength, 0, 0, RecordStatus.Corrupt,
                $"its header says first position {headerFirst}");
        }

        // The cursor owns and disposes a second handle; the outer one only measured the file.
        var cursor = new RecordCursor(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete),
            SegmentFormat.HeaderSize, ScanBufferBytes);
        using (cursor)
        {
            long records = 0;
            RecordStatus status;
            while ((status = cursor.TryRead(fileLength, out _, out _)) == RecordStatus.Record)
            {
                records++;
            }

            return new SegmentScan(path, nameFirst, HeaderValid: true, fileLength, cursor.Offset, records, status, null);
        }
    }

    private static long LengthOrZero(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Moves a damaged segment into the quarantine folder; a failure to move is logged, never thrown.</summary>
    private static void Quarantine(string directory, string path, string reason, ILogger logger)
    {
        string quarantine = Path.Combine(directory, QuarantineDirectoryName);
        string fileName = Path.GetFileName(path);
        try
        {
            Directory.CreateDirectory(quarantine);
            for (int suffix = 0; suffix <= NoReplaceFile.MaxSuffix; suffix++)
            {
                string target = Path.Combine(quarantine, NoReplaceFile.WithSuffix(fileName, suffix));
                if (NoReplaceRename.TryMove(path, target))
                {
                    DirectorySync.Flush(quarantine);
                    logger.SegmentQuarantined(path, reason, target);
                    return;
                }
            }

            logger.SegmentQuarantined(path, reason + "; no free name in the quarantine folder, left in place", path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            logger.SegmentQuarantined(path, $"{reason}; could not move it ({exception.Message}), left in place", path);
        }
    }

    /// <summary>What <see cref="Scan"/> found in one segment file.</summary>
    private readonly record struct SegmentScan(
        string Path, long First, bool HeaderValid, long FileLength, long GoodLength, long Records, RecordStatus Status, string? Error);
}
