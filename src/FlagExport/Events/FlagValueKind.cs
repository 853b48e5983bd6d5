namespace FlagExport;

/// <summary>The JSON kind of a <see cref="FlagValue"/>.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "JSON kinds, named as System.Text.Json.JsonValueKind names them.")]
public enum FlagValueKind : byte
{
    /// <summary>JSON <c>null</c>; also the kind of <c>default(FlagValue)</c>.</summary>
    Null = 0,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>A whole number held as <see cref="long"/>.</summary>
    Integer,

    /// <summary>A floating-point number held as <see cref="double"/>.</summary>
    Double,

    /// <summary>A string.</summary>
    String,

    /// <summary>An ordered list of values.</summary>
    Array,

    /// <summary>A map of property names to values, in insertion order.</summary>
    Object,
}
