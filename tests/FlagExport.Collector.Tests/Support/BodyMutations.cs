namespace FlagExport.Collector.Tests.Support;

/// <summary>Random edits of a request body (bytes replaced, removed, inserted, copied, or the end cut), for fuzzing.</summary>
internal static class BodyMutations
{
    public static byte[] Mutate(byte[] original, byte[] interesting, Random random)
    {
        List<byte> body = [.. original];
        for (int edits = random.Next(1, 6); edits > 0 && body.Count > 0; edits--)
        {
            int at = random.Next(body.Count);
            switch (random.Next(5))
            {
                case 0: body[at] = interesting[random.Next(interesting.Length)]; break;
                case 1: body.RemoveAt(at); break;
                case 2: body.Insert(at, (byte)random.Next(256)); break;
                case 3:
                    int from = random.Next(body.Count);
                    body.InsertRange(at, body.GetRange(from, Math.Min(20, body.Count - from)));
                    break;
                default: body.RemoveRange(at, body.Count - at); break;
            }
        }

        return [.. body];
    }
}
