namespace FlagExport.Durability;

/// <summary>What a pipeline reading the durable buffer needs: the shared store, its own cursor and its own reader.</summary>
internal sealed class DurableSource(DurableEventStore store, ExporterCursor cursor, DurableEventReader reader)
{
    public DurableEventStore Store { get; } = store;

    public ExporterCursor Cursor { get; } = cursor;

    public DurableEventReader Reader { get; } = reader;
}
