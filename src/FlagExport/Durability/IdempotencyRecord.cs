namespace FlagExport.Durability;

/// <summary>
/// An acknowledged request that carried <c>Idempotency-Key</c>: who sent it (<paramref name="Scope"/>), its key, the
/// hash of its body and the count it was answered with, so that a retry of it is answered the same without being kept
/// again.
/// </summary>
/// <param name="Scope">The SHA-256, as 64 lowercase hex digits, of the credential that admitted the request: keys of different senders never collide.</param>
/// <param name="Key">The header's value: 1 to <see cref="IdempotencyKeys.MaxKeyLength"/> printable ASCII characters.</param>
/// <param name="BodyHash">The SHA-256, as 64 lowercase hex digits, of the (decompressed) body.</param>
/// <param name="EventCount">The events the request was answered with (<c>ingestedContentCount</c>).</param>
/// <param name="ArrivalTime">When it was acknowledged: retention counts from it.</param>
internal sealed record IdempotencyRecord(string Scope, string Key, string BodyHash, int EventCount, DateTimeOffset ArrivalTime);
