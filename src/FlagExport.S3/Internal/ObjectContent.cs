namespace FlagExport.S3;

/// <summary>The headers that describe an object's bytes: from its batch's recorded encoding and compression.</summary>
/// <param name="ContentType">The format's media type.</param>
/// <param name="ContentEncoding">The compression's <c>Content-Encoding</c>, or null for none.</param>
internal readonly record struct ObjectContent(string ContentType, string? ContentEncoding);
