using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;

namespace FlagExport;

/// <summary>
/// Binds a configuration section to options so that a value the binder cannot convert (<c>ForcePathStyle: maybe</c>)
/// becomes a validation failure naming the key and the value, reported with every other problem, instead of an
/// <see cref="InvalidOperationException"/> that stops at the first one.
/// </summary>
/// <remarks>
/// The failures are kept beside the options instance they were found for; the validators of the options type report
/// them (<see cref="FailuresOf"/>). The other keys of the section are still bound, so their own checks run too.
/// </remarks>
internal static class OptionsBinding
{
    private static readonly ConditionalWeakTable<object, List<string>> Failures = [];

    /// <summary>Binds <paramref name="section"/> to <paramref name="options"/> with <paramref name="bind"/>.</summary>
    /// <param name="section">The options' section.</param>
    /// <param name="options">The instance to bind.</param>
    /// <param name="bind">The binder call; passed in so that the binder sees the concrete type.</param>
    public static void Bind<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(
        IConfigurationSection section, TOptions options, Action<IConfigurationSection, TOptions> bind)
        where TOptions : class
    {
        try
        {
            bind(section, options);
            return;
        }
        catch (InvalidOperationException)
        {
            // Bind again one key at a time, to find every key that cannot be converted and bind the rest.
        }

        List<string> failures = Failures.GetOrCreateValue(options);
        failures.Clear();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            try
            {
                bind(Only(section, child), options);
            }
            catch (InvalidOperationException)
            {
                failures.Add(Describe(typeof(TOptions), child));
            }
        }
    }

    /// <summary>The values of <paramref name="options"/>' section that could not be converted, one failure each.</summary>
    public static IReadOnlyList<string> FailuresOf(object options) =>
        Failures.TryGetValue(options, out List<string>? failures) ? failures : [];

    /// <summary>A copy of <paramref name="section"/> that holds only <paramref name="child"/> and what is under it.</summary>
    private static IConfigurationSection Only(IConfigurationSection section, IConfigurationSection child) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(child.AsEnumerable())
            .Build()
            .GetSection(section.Path);

    private static string Describe([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type optionsType, IConfigurationSection child)
    {
        PropertyInfo? property = Array.Find(optionsType.GetProperties(), p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
        Type? type = property is null ? null : Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        string rule = type switch
        {
            null => "cannot be read",
            _ when type == typeof(bool) => "must be true or false",
            _ when type == typeof(int) || type == typeof(long) => "must be a whole number",
            _ when type == typeof(TimeSpan) => "must be a duration written hh:mm:ss, such as 00:00:10",
            _ when type == typeof(Uri) => "must be a URL",
            { IsEnum: true } => $"must be one of {string.Join(", ", Enum.GetNames(type))}",
            _ => $"cannot be read as {type.Name}",
        };
        string name = property?.Name ?? child.Key;
        string parent = child.Path[..^child.Key.Length];
        return child.Value is null
            ? $"{parent}{name} {rule}."
            : $"{parent}{name} {rule}; got '{child.Value}'.";
    }
}
