using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.Telemetry;

namespace FlagExport.FeatureManagement;

/// <summary>
/// Turns Microsoft.FeatureManagement's <c>FeatureFlag</c> activity event into go-feature-flag's <see cref="FeatureEvent"/>.
/// In the steady state it allocates the event only: the tags are read without boxing or copying, the metadata object is
/// shared by the evaluations of a flag while its metadata stays the same, and variant values are converted once per
/// feature definition.
/// </summary>
internal sealed class EvaluationMapper
{
    /// <summary>The activity event Microsoft.FeatureManagement adds for each evaluation.</summary>
    internal const string EventName = "FeatureFlag";

    internal const string FeatureNameTag = "FeatureName";
    internal const string EnabledTag = "Enabled";
    internal const string ReasonTag = "VariantAssignmentReason";
    internal const string SchemaVersionTag = "Version";
    internal const string TargetingIdTag = "TargetingId";
    internal const string VariantTag = "Variant";
    internal const string PercentageTag = "VariantAssignmentPercentage";
    internal const string DefaultWhenEnabledTag = "DefaultWhenEnabled";

    /// <summary>The telemetry metadata key that Azure App Configuration fills with the flag's version.</summary>
    internal const string ETagKey = "ETag";

    private readonly ConfigurationFeatureDefinitionProvider? _definitions;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, FlagObject> _metadata = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<FeatureDefinition, VariantValues> _variantValues = [];

    /// <param name="definitions">Where variant values are read, or null to export variants by name.</param>
    /// <param name="time">The clock of <see cref="ExportableEvent.CreationDate"/>.</param>
    public EvaluationMapper(ConfigurationFeatureDefinitionProvider? definitions, TimeProvider time)
    {
        _definitions = definitions;
        _time = time;
    }

    /// <summary>Maps one <c>FeatureFlag</c> event.</summary>
    /// <exception cref="InvalidOperationException">The event has no feature name.</exception>
    public FeatureEvent Map(in ActivityEvent evaluation)
    {
        string? key = null, targetingId = null, variant = null, etag = null;
        bool enabled = false;
        VariantAssignmentReason reason = VariantAssignmentReason.None;
        int metadataCount = 0;
        foreach (ref readonly KeyValuePair<string, object?> tag in evaluation.EnumerateTagObjects())
        {
            switch (tag.Key)
            {
                case FeatureNameTag:
                    key = tag.Value as string;
                    break;
                case EnabledTag:
                    enabled = tag.Value is true;
                    break;
                case ReasonTag:
                    reason = tag.Value is VariantAssignmentReason assigned ? assigned : VariantAssignmentReason.None;
                    break;
                case TargetingIdTag:
                    targetingId = tag.Value as string;
                    break;
                case VariantTag:
                    variant = tag.Value as string;
                    break;
                case SchemaVersionTag or PercentageTag or DefaultWhenEnabledTag:
                    break;
                default:
                    // Microsoft.FeatureManagement adds the telemetry metadata after its own tags and drops entries
                    // whose key is one of them, so every other tag is a metadata entry.
                    metadataCount++;
                    if (tag.Key == ETagKey)
                    {
                        etag = tag.Value as string;
                    }

                    break;
            }
        }

        if (string.IsNullOrEmpty(key))
        {
            throw new InvalidOperationException($"The {EventName} event has no {FeatureNameTag} tag.");
        }

        return new FeatureEvent
        {
            Key = key,
            ContextKind = string.IsNullOrEmpty(targetingId) ? "anonymousUser" : "user",
            UserKey = targetingId ?? "",
            CreationDate = _time.GetUtcNow().ToUnixTimeSeconds(),
            Variation = variant ?? (enabled ? "True" : "False"),
            Value = variant is null ? enabled : VariantValue(key, variant) ?? variant,
            Default = reason is VariantAssignmentReason.DefaultWhenDisabled or VariantAssignmentReason.DefaultWhenEnabled,
            Version = etag ?? "",
            Source = "SERVER",
            Metadata = metadataCount == 0 ? null : SharedMetadata(key, evaluation, metadataCount),
        };
    }

    /// <summary>
    /// The configuration value of <paramref name="variant"/> in the flag's current definition, or null when the
    /// definitions are not read, the lookup did not complete at once, or the variant has no configuration value.
    /// </summary>
    private FlagValue? VariantValue(string key, string variant)
    {
        if (_definitions is null)
        {
            return null;
        }

        // The provider caches its definitions until the configuration reloads: a dictionary look-up, the same
        // definition the evaluation read.
        Task<FeatureDefinition> lookup = _definitions.GetFeatureDefinitionAsync(key);
        if (!lookup.IsCompletedSuccessfully || lookup.Result is not { } definition)
        {
            return null;
        }

        return _variantValues.GetValue(definition, static d => VariantValues.Of(d)).Find(variant);
    }

    /// <summary>The metadata of <paramref name="evaluation"/>, the same object as the flag's last one when equal.</summary>
    private FlagObject SharedMetadata(string key, in ActivityEvent evaluation, int count)
    {
        if (_metadata.TryGetValue(key, out FlagObject? last) && Matches(last, evaluation, count))
        {
            return last;
        }

        var properties = new KeyValuePair<string, FlagValue>[count];
        int i = 0;
        foreach (ref readonly KeyValuePair<string, object?> tag in evaluation.EnumerateTagObjects())
        {
            if (IsMetadata(tag.Key))
            {
                properties[i++] = new(tag.Key, FlagValue.FromString(tag.Value as string ?? Convert.ToString(tag.Value, CultureInfo.InvariantCulture)));
            }
        }

        FlagObject metadata = FlagObject.Create(properties);
        _metadata[key] = metadata;
        return metadata;
    }

    private static bool Matches(FlagObject last, in ActivityEvent evaluation, int count)
    {
        if (last.Count != count)
        {
            return false;
        }

        foreach (ref readonly KeyValuePair<string, object?> tag in evaluation.EnumerateTagObjects())
        {
            if (IsMetadata(tag.Key) &&
                !(tag.Value is string value && last.TryGetValue(tag.Key, out FlagValue held) &&
                  held.Kind == FlagValueKind.String && string.Equals(held.AsString(), value, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsMetadata(string tag) => tag is not (FeatureNameTag or EnabledTag or ReasonTag or SchemaVersionTag
        or TargetingIdTag or VariantTag or PercentageTag or DefaultWhenEnabledTag);
}
