using System.Globalization;
using FlagExport.Durability;
using Microsoft.Extensions.Configuration;

namespace FlagExport.Collector.Configuration;

/// <content>
/// <c>idempotencyKeyRetention</c> and <c>maxIdempotencyKeys</c>: how long, and how many, <c>Idempotency-Key</c>s the
/// collector remembers (go-feature-flag has no such keys: they are named plainly).
/// </content>
internal sealed partial class CollectorSettings
{
    /// <summary>The key of <see cref="IdempotencyKeyRetention"/>.</summary>
    public const string IdempotencyKeyRetentionKey = "idempotencyKeyRetention";

    /// <summary>The key of <see cref="MaxIdempotencyKeys"/>.</summary>
    public const string MaxIdempotencyKeysKey = "maxIdempotencyKeys";

    /// <summary>The longest <see cref="IdempotencyKeyRetention"/> accepted: 30 days.</summary>
    public static readonly TimeSpan MaxIdempotencyKeyRetention = TimeSpan.FromDays(30);

    /// <summary>The largest <see cref="MaxIdempotencyKeys"/> accepted.</summary>
    public const int MaxMaxIdempotencyKeys = 100_000_000;

    /// <summary><c>idempotencyKeyRetention</c>: how long a key is remembered after its request was acknowledged (a <c>TimeSpan</c>, such as <c>2.00:00:00</c>).</summary>
    public TimeSpan IdempotencyKeyRetention { get; private init; } = IdempotencyKeys.DefaultRetention;

    /// <summary><c>maxIdempotencyKeys</c>: the most keys remembered; past it, the oldest are forgotten first.</summary>
    public int MaxIdempotencyKeys { get; private init; } = IdempotencyKeys.DefaultMaxKeys;

    private static TimeSpan ReadIdempotencyKeyRetention(IConfiguration configuration, List<string> errors)
    {
        if (configuration[IdempotencyKeyRetentionKey] is not { } text)
        {
            return IdempotencyKeys.DefaultRetention;
        }

        if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan retention) || retention <= TimeSpan.Zero || retention > MaxIdempotencyKeyRetention)
        {
            errors.Add($"{IdempotencyKeyRetentionKey}: must be a duration such as '2.00:00:00' (2 days) or '06:00:00' (6 hours), more than zero and at most 30 days; got '{text}'.");
            return IdempotencyKeys.DefaultRetention;
        }

        return retention;
    }

    private static int ReadMaxIdempotencyKeys(IConfiguration configuration, List<string> errors)
    {
        if (configuration[MaxIdempotencyKeysKey] is not { } text)
        {
            return IdempotencyKeys.DefaultMaxKeys;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int maxKeys) || maxKeys is <= 0 or > MaxMaxIdempotencyKeys)
        {
            errors.Add($"{MaxIdempotencyKeysKey}: must be a number of keys between 1 and {MaxMaxIdempotencyKeys.ToString(CultureInfo.InvariantCulture)}; got '{text}'.");
            return IdempotencyKeys.DefaultMaxKeys;
        }

        return maxKeys;
    }
}
