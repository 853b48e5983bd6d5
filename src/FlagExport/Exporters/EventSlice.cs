using System.Collections;

namespace FlagExport;

/// <summary>A read-only view of consecutive events of a list, without copying them.</summary>
internal sealed class EventSlice(IReadOnlyList<ExportableEvent> source, int offset, int count) : IReadOnlyList<ExportableEvent>
{
    public ExportableEvent this[int index] =>
        (uint)index < (uint)count ? source[offset + index] : throw new ArgumentOutOfRangeException(nameof(index), index, null);

    public int Count => count;

    /// <summary>The whole of <paramref name="source"/> is itself; any other range a view.</summary>
    public static IReadOnlyList<ExportableEvent> Of(IReadOnlyList<ExportableEvent> source, int offset, int count) =>
        offset == 0 && count == source.Count ? source : new EventSlice(source, offset, count);

    public IEnumerator<ExportableEvent> GetEnumerator()
    {
        for (int i = 0; i < count; i++)
        {
            yield return source[offset + i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
