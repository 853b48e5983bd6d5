using System.Numerics;

namespace FlagExport.Durability;

/// <summary>
/// The log's most recent records as the objects they were appended from (an event, or the metadata object of a metadata
/// record), by position: readers that have caught up with the writer take them from here instead of decoding them back
/// from the segment files. Bounded by count and by the records' bytes; entries are dropped once every registered reader
/// is past them, the oldest first when over a bound, and readers then read the log as before.
/// </summary>
/// <remarks>
/// <para>Invariants: the entries held are the positions <c>[Start, End)</c> without a gap, in the order the log assigned
/// them, each one the object its record was encoded from; a position of a discarded group commit holds
/// <see cref="Discarded"/> (its record is nowhere), so no reader can take an event the log refused. The log adds entries
/// under its own lock in the same step that assigns their positions, so a position a reader sees durable is either held
/// here or was dropped (never "not yet added"). After a restart the log starts with none: backlog is read from disk.</para>
/// <para>The objects are shared by every reader: exporters never change an event (events are immutable but for their
/// bound caches, which are idempotent).</para>
/// <para>Thread-safe: the log adds and forgets under <see cref="Lock"/>'s scope taken by <see cref="BeginAdd"/>, readers copy
/// chunks out under the same lock, so an appender waits at most for one chunk copy.</para>
/// </remarks>
internal sealed class RecentRecords
{
    /// <summary>What a position of a discarded group commit holds: not an event, nothing to read.</summary>
    public static readonly object Discarded = new();

    private const int InitialCapacity = 1024;

    private readonly Lock _gate = new();
    private readonly int _maxCount;
    private readonly long _maxBytes;
    private readonly List<Registration> _readers = [];

    // Guarded by _gate: a ring of capacity a power of two; position p is at index p & (capacity - 1).
    private object?[] _items = [];
    private int[] _sizes = [];
    private long _start;
    private long _end;
    private long _bytes;

    /// <param name="position">The log's end: the position of the first record that will be added.</param>
    /// <param name="maxCount">The most records held; 0 holds none.</param>
    /// <param name="maxBytes">The most payload bytes of the records held.</param>
    public RecentRecords(long position, int maxCount, long maxBytes)
    {
        _maxCount = maxCount <= 0 ? 0 : (int)Math.Min(1 << 30, (uint)maxCount);
        _maxBytes = maxBytes;
        _start = _end = position;
    }

    /// <summary>The first position held (there may be none: <see cref="Start"/> = <see cref="End"/>).</summary>
    public long Start
    {
        get
        {
            lock (_gate)
            {
                return _start;
            }
        }
    }

    /// <summary>The position after the last one held.</summary>
    public long End
    {
        get
        {
            lock (_gate)
            {
                return _end;
            }
        }
    }

    /// <summary>The number of records held.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return (int)(_end - _start);
            }
        }
    }

    /// <summary>The payload bytes of the records held.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Takes the lock for a run of <see cref="AddLocked"/> calls (one append call of the log).</summary>
    public Lock.Scope BeginAdd() => _gate.EnterScope();

    /// <summary>
    /// Under <see cref="BeginAdd"/>: the record at <paramref name="position"/>, appended from <paramref name="item"/>
    /// (null when the appender gave none: then nothing before it is held either, since the held positions have no gap).
    /// </summary>
    public void AddLocked(long position, object? item, int bytes)
    {
        if (item is null || position != _end || _maxCount == 0 || bytes > _maxBytes)
        {
            // Not served from memory: readers read it, and what comes before it, from the log.
            ClearLocked(position + 1);
            return;
        }

        if (_end - _start >= _maxCount)
        {
            DropOldestLocked();
        }
        else if (_end - _start == _items.Length)
        {
            Grow();
        }

        while (_bytes + bytes > _maxBytes)
        {
            DropOldestLocked();
        }

        int index = Index(_end);
        _items[index] = item;
        _sizes[index] = bytes;
        _bytes += bytes;
        _end++;
    }

    /// <summary>Under <see cref="BeginAdd"/>: the records <c>[start, end)</c> were discarded (their group commit failed).</summary>
    public void ForgetLocked(long start, long end)
    {
        for (long position = Math.Max(start, _start); position < Math.Min(end, _end); position++)
        {
            int index = Index(position);
            _items[index] = Discarded;
            _bytes -= _sizes[index];
            _sizes[index] = 0;
        }
    }

    /// <summary>
    /// Copies the entries from <paramref name="first"/> on, below <paramref name="end"/>, into <paramref name="into"/>:
    /// as many as fit. Returns how many; 0 when <paramref name="first"/> is not held (read the log then).
    /// </summary>
    public int Copy(long first, long end, object?[] into)
    {
        lock (_gate)
        {
            if (first < _start || first >= _end)
            {
                return 0;
            }

            int count = (int)Math.Min(Math.Min(end, _end) - first, into.Length);
            int index = Index(first);
            int before = Math.Min(count, _items.Length - index); // up to the end of the ring, then from its start
            Array.Copy(_items, index, into, 0, before);
            Array.Copy(_items, 0, into, before, count - before);
            return count;
        }
    }

    /// <summary>Registers a reader whose next position is <paramref name="position"/>: nothing from there on is dropped for having been read.</summary>
    public Registration Register(long position)
    {
        var registration = new Registration(this, position);
        lock (_gate)
        {
            _readers.Add(registration);
        }

        return registration;
    }

    /// <summary>Drops what every registered reader is past.</summary>
    private void DropReadLocked()
    {
        if (_readers.Count == 0)
        {
            return;
        }

        long oldestNeeded = long.MaxValue;
        foreach (Registration reader in _readers)
        {
            oldestNeeded = Math.Min(oldestNeeded, reader.Position);
        }

        while (_start < _end && _start < oldestNeeded)
        {
            DropOldestLocked();
        }
    }

    private void DropOldestLocked()
    {
        int index = Index(_start);
        _items[index] = null;
        _bytes -= _sizes[index];
        _start++;
    }

    private void ClearLocked(long position)
    {
        while (_start < _end)
        {
            DropOldestLocked();
        }

        _start = _end = position;
    }

    private void Grow()
    {
        // Below _maxCount entries, so the new capacity stays within the power of two that holds _maxCount.
        int capacity = (int)Math.Min(Math.Max(InitialCapacity, _items.Length * 2L), BitOperations.RoundUpToPowerOf2((uint)_maxCount));
        var items = new object?[capacity];
        var sizes = new int[capacity];
        for (long position = _start; position < _end; position++)
        {
            int from = Index(position);
            int to = (int)(position & (capacity - 1));
            items[to] = _items[from];
            sizes[to] = _sizes[from];
        }

        (_items, _sizes) = (items, sizes);
    }

    private int Index(long position) => (int)(position & (_items.Length - 1));

    /// <summary>One reader's next position, for dropping what every reader is past.</summary>
    internal sealed class Registration(RecentRecords records, long position) : IDisposable
    {
        /// <summary>Under the records' lock.</summary>
        internal long Position { get; private set; } = position;

        /// <summary>The reader will next read <paramref name="position"/>: what every reader is past is dropped.</summary>
        public void MovedTo(long position)
        {
            lock (records._gate)
            {
                Position = position;
                records.DropReadLocked();
            }
        }

        public void Dispose()
        {
            lock (records._gate)
            {
                _ = records._readers.Remove(this);
            }
        }
    }
}
