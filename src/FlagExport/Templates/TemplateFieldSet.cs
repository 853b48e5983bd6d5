using System.Collections.Frozen;
using System.Globalization;

namespace FlagExport.Templates;

/// <summary>
/// The fields one kind of template may reference, for example the fields of a feature event in a CSV line.
/// </summary>
/// <remarks>
/// A field set is data: a description used in error messages and an enum whose member names are the field names
/// (case-sensitive, as Go's text/template resolves struct fields) and whose values, 0 to n-1, are the field ids stored
/// in a compiled template. Adding a kind of template means adding an enum and a set in <see cref="TemplateFieldSets"/>,
/// not touching the parser.
/// </remarks>
internal sealed class TemplateFieldSet
{
    private readonly FrozenDictionary<string, int> _ids;

    private TemplateFieldSet(string description, string[] names)
    {
        Description = description;
        Names = names;
        _ids = names.Select((name, id) => KeyValuePair.Create(name, id)).ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>What the fields belong to, as error messages say it: "feature events", "file names".</summary>
    public string Description { get; }

    /// <summary>The field names, in id order; also the order error messages list them in.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Creates the set whose fields are the members of <typeparamref name="TField"/>.</summary>
    /// <exception cref="ArgumentException">The members are not numbered 0 to n-1 in declaration order.</exception>
    public static TemplateFieldSet FromEnum<TField>(string description)
        where TField : struct, Enum
    {
        TField[] values = Enum.GetValues<TField>();
        for (int i = 0; i < values.Length; i++)
        {
            if (Convert.ToInt32(values[i], CultureInfo.InvariantCulture) != i)
            {
                throw new ArgumentException($"{typeof(TField).Name} must number its members 0 to n-1.", nameof(TField));
            }
        }

        return new TemplateFieldSet(description, Enum.GetNames<TField>());
    }

    /// <summary>Finds the id of the field named exactly <paramref name="name"/>.</summary>
    public bool TryGetId(string name, out int id) => _ids.TryGetValue(name, out id);

    /// <summary>The field whose name differs from <paramref name="name"/> only by case, for a "did you mean" hint.</summary>
    public string? FindCaseInsensitive(string name) =>
        Names.FirstOrDefault(candidate => string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase));
}
