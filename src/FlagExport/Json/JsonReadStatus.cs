namespace FlagExport.Json;

/// <summary>The outcome of reading one JSON value from a <see cref="System.Text.Json.Utf8JsonReader"/> that may hold only part of the text.</summary>
internal enum JsonReadStatus
{
    /// <summary>The whole value was read; the reader is on its last token.</summary>
    Done,

    /// <summary>The value is well formed but cannot be taken (a number beyond the double range); the reader is on its last token.</summary>
    Invalid,

    /// <summary>The text ends inside the value: read again from where the value starts once more text has arrived.</summary>
    NeedMoreData,
}
