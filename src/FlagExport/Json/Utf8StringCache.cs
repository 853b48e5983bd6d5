using System.IO.Hashing;
using System.Numerics;
using System.Text;

namespace FlagExport.Json;

/// <summary>
/// Hands out one shared string for each short ASCII value seen again (flag keys, variation names, kinds, sources,
/// metadata keys), so that decoding a stream of events allocates those strings once rather than once per event.
/// </summary>
/// <remarks>
/// A fixed table of slots indexed by a hash of the bytes; a slot holds the last string that hashed there, so the memory
/// held is bounded and a miss costs no more than decoding the string. Slots are single references, read and written
/// atomically, so any number of threads may share a cache without locks: a race only turns a hit into a miss.
/// Only ASCII values are kept, so that a hit can be checked by comparing the bytes with the string's characters.
/// </remarks>
internal sealed class Utf8StringCache
{
    /// <summary>The longest value, in bytes, that is looked up; longer ones are decoded without the cache.</summary>
    public const int MaxLength = 64;

    /// <summary>Per process, so that which keys share a slot cannot be worked out from outside.</summary>
    private static readonly long Seed = Random.Shared.NextInt64();

    private readonly string?[] _slots;

    /// <summary>Creates a cache of <paramref name="slots"/> slots, rounded up to a power of two.</summary>
    public Utf8StringCache(int slots = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _slots = new string?[(int)BitOperations.RoundUpToPowerOf2((uint)slots)];
    }

    /// <summary>The string of <paramref name="utf8"/>, the cached one when the same ASCII value was seen before.</summary>
    /// <remarks>Invalid UTF-8 is replaced with U+FFFD, as <see cref="Encoding.UTF8"/> decodes it.</remarks>
    public string GetString(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        ref string? slot = ref _slots[(int)XxHash3.HashToUInt64(utf8, Seed) & (_slots.Length - 1)];
        string? cached = Volatile.Read(ref slot);
        // Ascii.Equals is false for any non-ASCII byte, so a hit needs no separate ASCII check; a miss does.
        if (cached is not null && cached.Length == utf8.Length && Ascii.Equals(utf8, cached))
        {
            return cached;
        }

        if (!Ascii.IsValid(utf8))
        {
            return Encoding.UTF8.GetString(utf8);
        }

        string created = Encoding.ASCII.GetString(utf8);
        Volatile.Write(ref slot, created);
        return created;
    }
}
