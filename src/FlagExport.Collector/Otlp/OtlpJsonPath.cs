using System.Globalization;
using System.Text;

namespace FlagExport.Collector.Otlp;

/// <summary>
/// Where an OTLP/JSON reader is in the request, as a field path for error messages:
/// <c>resourceLogs[0].scopeLogs[1].logRecords[3].attributes[2].value</c>.
/// </summary>
/// <remarks>
/// A stack of (field name, element index) segments kept as the reader descends; the text is built only when an error
/// is reported, so a well-formed request costs one push and pop per field entered and no strings.
/// </remarks>
internal sealed class OtlpJsonPath
{
    private const int NoIndex = -1;

    private Segment[] _segments = new Segment[16];
    private int _count;

    /// <summary>Enters the field <paramref name="name"/> (written as the OTLP/JSON name, whatever spelling was sent).</summary>
    public void Push(string name)
    {
        if (_count == _segments.Length)
        {
            Array.Resize(ref _segments, _count * 2);
        }

        _segments[_count++] = new Segment(name, NoIndex);
    }

    /// <summary>Marks the element <paramref name="index"/> of the array field entered last.</summary>
    public void At(int index) => _segments[_count - 1].Index = index;

    /// <summary>Leaves the field entered last.</summary>
    public void Pop() => _count--;

    /// <summary>The path, or <c>(request)</c> at the top level.</summary>
    public override string ToString()
    {
        if (_count == 0)
        {
            return "(request)";
        }

        var text = new StringBuilder();
        for (int i = 0; i < _count; i++)
        {
            if (i > 0)
            {
                _ = text.Append('.');
            }

            _ = text.Append(_segments[i].Name);
            if (_segments[i].Index != NoIndex)
            {
                _ = text.Append('[').Append(_segments[i].Index.ToString(CultureInfo.InvariantCulture)).Append(']');
            }
        }

        return text.ToString();
    }

    private struct Segment(string name, int index)
    {
        public readonly string Name = name;
        public int Index = index;
    }
}
