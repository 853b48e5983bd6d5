using System.Globalization;

namespace FlagExport;

/// <summary>
/// One batch handed to <see cref="IExporter.ExportAsync"/>: its events, an identity that stays the same across every
/// attempt to write it (and, with the durable buffer, across restarts), the attempt number, and a small record of the
/// names the exporter chose for it.
/// </summary>
/// <remarks>
/// <para>The pipeline cuts a batch once and hands the same events, in the same order, under the same <see cref="Id"/>
/// to every attempt until one succeeds. With a durable buffer the batch is a range of buffer positions
/// (<see cref="FirstPosition"/> to <see cref="EndPosition"/>) and is cut again with the same range after a crash.</para>
/// <para>An exporter that names its output (a file, an object key) chooses the name on the first attempt and
/// stores it with <see cref="RecordAsync"/> <em>before</em> writing; a later attempt reads it back with
/// <see cref="GetRecorded"/> and writes under the same name, so that output already written by an attempt whose
/// outcome was lost is recognised instead of written twice. With the durable buffer the record is on disk when
/// <see cref="RecordAsync"/> returns.</para>
/// <para>A name says where, not what: an exporter that writes a batch as several files or objects also needs each
/// one's events to be the same on every attempt, whatever its options are by then. <see cref="ExportFileEncoder.BeginAsync"/>
/// keeps that in the same records (the batch's encoding options and each part's event range).</para>
/// </remarks>
public sealed class ExportBatch
{
    private readonly BatchState _state;

    /// <summary>
    /// Creates a batch outside a pipeline (for example to call an exporter directly): a new identity, attempt 1,
    /// records kept in memory. Passing the same instance to a second call makes that call a retry of the first.
    /// </summary>
    /// <param name="events">The events, all of one <see cref="EventType"/>.</param>
    public ExportBatch(IReadOnlyList<ExportableEvent> events)
        : this(events, BatchState.CreateUnique(events?.Count ?? 0), attempt: 1)
    {
    }

    internal ExportBatch(IReadOnlyList<ExportableEvent> events, BatchState state, int attempt)
    {
        ArgumentNullException.ThrowIfNull(events);
        Events = events;
        _state = state;
        Attempt = attempt;
    }

    /// <summary>The events to write, in order. The list belongs to the pipeline: do not keep it after the export.</summary>
    public IReadOnlyList<ExportableEvent> Events { get; }

    /// <summary>
    /// The batch's identity: the same for every attempt to write these events, different for any other batch written
    /// by this pipeline. Short, ASCII letters, digits and <c>-</c> only, so it fits in an HTTP header or file name.
    /// </summary>
    public string Id => _state.Id;

    /// <summary>The position of the batch's first event in the pipeline's buffer.</summary>
    internal long FirstPosition => _state.FirstPosition;

    /// <summary>The position just after the batch's last event: the batch covers <c>[FirstPosition, EndPosition)</c>.</summary>
    internal long EndPosition => _state.EndPosition;

    /// <summary>Which attempt this is: 1 for the first, counted across restarts with the durable buffer.</summary>
    internal int Attempt { get; }

    /// <summary>The value stored under <paramref name="name"/> by an earlier attempt, or <see langword="null"/>.</summary>
    /// <param name="name">The name, chosen by the exporter.</param>
    public string? GetRecorded(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_state.Recorded)
        {
            return _state.Recorded.GetValueOrDefault(name);
        }
    }

    /// <summary>Whether an earlier attempt stored a value under a name that starts with <paramref name="prefix"/>.</summary>
    internal bool HasRecordStartingWith(string prefix)
    {
        lock (_state.Recorded)
        {
            foreach (string name in _state.Recorded.Keys)
            {
                if (name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="name"/> for the later attempts of this batch; with the
    /// durable buffer it is on disk when the returned task completes. Throws when it cannot be stored: do not write
    /// anything under a name that is not recorded.
    /// </summary>
    /// <param name="name">The name, chosen by the exporter.</param>
    /// <param name="value">The value, for example an object key.</param>
    /// <param name="cancellationToken">Cancels the wait for the disk.</param>
    public ValueTask RecordAsync(string name, string value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        long version;
        lock (_state.Recorded)
        {
            bool same = _state.Recorded.TryGetValue(name, out string? existing) && existing == value;
            if (same && _state.PersistedVersion == _state.Version)
            {
                return ValueTask.CompletedTask;
            }

            if (!same)
            {
                _state.Recorded[name] = value;
                _state.Version++;
            }

            version = _state.Version;
        }

        // A value already there but not yet on disk (its write failed) is written again: it may name what is written next.
        return _state.Persist is { } persist ? PersistAsync(persist, version, cancellationToken) : ValueTask.CompletedTask;
    }

    private async ValueTask PersistAsync(Func<BatchState, CancellationToken, ValueTask> persist, long version, CancellationToken cancellationToken)
    {
        await persist(_state, cancellationToken).ConfigureAwait(false);
        lock (_state.Recorded)
        {
            _state.PersistedVersion = Math.Max(_state.PersistedVersion, version);
        }
    }

    /// <summary>
    /// What this attempt wrote, in order, each with the elapsed time since the attempt started when it was reported;
    /// the pipeline logs one line each.
    /// </summary>
    internal List<WrittenObject> Written { get; } = [];

    /// <summary>The clock the elapsed times of <see cref="ReportWritten"/> are taken on; set by the pipeline.</summary>
    internal TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>When the attempt started, on <see cref="Clock"/>.</summary>
    internal long StartedTimestamp { get; init; }

    /// <summary>
    /// Tells the pipeline that a file or object of this batch was written, once for each: it logs one line per object
    /// (location, events, bytes, time) when the attempt succeeds.
    /// </summary>
    /// <param name="location">The path or URL written (<c>s3://bucket/key</c>).</param>
    /// <param name="eventCount">How many of the batch's events it holds.</param>
    /// <param name="byteCount">Its size in bytes.</param>
    public void ReportWritten(string location, int eventCount, long byteCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        ArgumentOutOfRangeException.ThrowIfNegative(eventCount);
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        lock (Written)
        {
            Written.Add(new(location, eventCount, byteCount, Clock.GetElapsedTime(StartedTimestamp)));
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Id} ({Events.Count} events, attempt {Attempt})");
}
