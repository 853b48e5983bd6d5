using System.Globalization;

namespace FlagExport;

/// <summary>
/// What an object store supplies to an <see cref="ObjectStoreWriter"/>: create an object only where no object has its
/// name, and read back the write id stored with an existing one. Everything else (names, suffixes, records, retries,
/// encoding, compression, partitions) is the writer's.
/// </summary>
/// <remarks>
/// <para>Failures are the store's to describe: a method throws its own exception (ideally an <see cref="IExportFailure"/>
/// that names the object and says whether retrying can help), and the pipeline logs it and retries or dead-letters the
/// batch. A method is called by one export at a time.</para>
/// <para>When the store is <see cref="IDisposable"/>, the writer disposes it once no export runs any more.</para>
/// </remarks>
public interface IObjectStore
{
    /// <summary>
    /// Where the object <paramref name="name"/> is, as reported for a written object and named in messages, such as
    /// <c>s3://bucket/key</c>. <c>Locate("")</c> names the place itself: names are told apart per place.
    /// </summary>
    string Locate(string name);

    /// <summary>
    /// Creates the object <see cref="ObjectUpload.Name"/> with the content, headers and write id of
    /// <paramref name="upload"/>, unless an object of that name exists (a conditional write such as
    /// <c>If-None-Match: *</c>, or a check the store makes atomic some other way): then nothing is written and the
    /// answer is false. An object is never replaced and never left half-written under the name.
    /// </summary>
    /// <returns>True when the object was written; false when the name was taken.</returns>
    Task<bool> TryCreateAsync(ObjectUpload upload, CancellationToken cancellationToken);

    /// <summary>
    /// The write id stored with the object at <see cref="ObjectUpload.Name"/>, whose creation was just refused; null
    /// when it has none (another writer's object) or is gone again.
    /// </summary>
    /// <remarks>
    /// A failure to read it must throw, never answer null: null moves the part to the next name, which writes it a second
    /// time if the object was this batch's own.
    /// </remarks>
    Task<string?> ReadWriteIdAsync(ObjectUpload upload, CancellationToken cancellationToken);

    /// <summary>Told that the object <paramref name="name"/> is another writer's, before the next suffix is tried; for the log.</summary>
    void OnNameTaken(string name)
    {
    }

    /// <summary>Told that the object <paramref name="name"/> is an earlier attempt's of the same batch, so it is not written again; for the log.</summary>
    void OnAlreadyWritten(string name)
    {
    }

    /// <summary>
    /// The name of the batch record (<see cref="ExportBatch.RecordAsync"/>) that holds the suffix of part
    /// <paramref name="part"/> of the partition <paramref name="partition"/>. A store keeps the default unless its
    /// batches were recorded under other names before, which it must go on reading.
    /// </summary>
    string SuffixRecord(string partition, int part) =>
        string.Create(CultureInfo.InvariantCulture, $"export.suffix.{part}:{partition}");
}
