namespace FlagExport.Testing;

/// <summary>
/// Choices read from a byte script that FsCheck generates and shrinks: each call takes the next byte modulo the number
/// of choices, and 0 once the script is used up, so a shorter script is a simpler run.
/// </summary>
public sealed class ScriptedChoices(byte[]? script)
{
    private readonly byte[] _script = script ?? [];
    private int _next;

    /// <summary>A choice in [0, <paramref name="count"/>).</summary>
    public int Next(int count) => _next < _script.Length ? _script[_next++] % count : 0;

    /// <summary>One of <paramref name="values"/>.</summary>
    public T Pick<T>(params T[] values) => values[Next(values.Length)];
}
