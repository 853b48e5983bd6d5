using System.Text;
using System.Text.Json;
using FlagExport.Json;

namespace FlagExport.Collector.Ingestion;

/// <summary>Finds the <see cref="EventField"/> of a property name as Go's decoders do: ignoring case.</summary>
internal static class EventFields
{
    private static readonly (string Name, EventField Field)[] All =
    [
        ("kind", EventField.Kind), ("contextKind", EventField.ContextKind), ("userKey", EventField.UserKey),
        ("creationDate", EventField.CreationDate), ("key", EventField.Key), ("variation", EventField.Variation),
        ("value", EventField.Value), ("default", EventField.Default), ("defaultValue", EventField.DefaultValue),
        ("version", EventField.Version), ("source", EventField.Source), ("metadata", EventField.Metadata),
        ("evaluationContext", EventField.EvaluationContext), ("trackingEventDetails", EventField.TrackingEventDetails),
    ];

    /// <summary>
    /// The field named by the reader's current <see cref="JsonTokenType.PropertyName"/>, compared as
    /// <see cref="StringComparison.OrdinalIgnoreCase"/> compares the decoded name. The names as providers write them are
    /// matched first, by length and bytes; other plain ASCII names are compared in place without decoding.
    /// </summary>
    public static EventField Find(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            ReadOnlySpan<byte> name = reader.ValueSpan;
            EventField exact = FindExact(name);
            if (exact != EventField.Other)
            {
                return exact;
            }

            if (Ascii.IsValid(name))
            {
                foreach ((string candidate, EventField field) in All)
                {
                    if (candidate.Length == name.Length && Ascii.EqualsIgnoreCase(name, candidate))
                    {
                        return field;
                    }
                }

                return EventField.Other;
            }
        }

        string decoded = JsonText.GetString(ref reader, null);
        foreach ((string candidate, EventField field) in All)
        {
            if (decoded.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return field;
            }
        }

        return EventField.Other;
    }

    /// <summary>
    /// The field whose name is exactly <paramref name="name"/> as written in <see cref="All"/>, else
    /// <see cref="EventField.Other"/>: one length test and at most three byte comparisons per property.
    /// </summary>
    private static EventField FindExact(ReadOnlySpan<byte> name) => name.Length switch
    {
        3 when name.SequenceEqual("key"u8) => EventField.Key,
        4 when name.SequenceEqual("kind"u8) => EventField.Kind,
        5 when name.SequenceEqual("value"u8) => EventField.Value,
        6 when name.SequenceEqual("source"u8) => EventField.Source,
        7 when name.SequenceEqual("userKey"u8) => EventField.UserKey,
        7 when name.SequenceEqual("default"u8) => EventField.Default,
        7 when name.SequenceEqual("version"u8) => EventField.Version,
        8 when name.SequenceEqual("metadata"u8) => EventField.Metadata,
        9 when name.SequenceEqual("variation"u8) => EventField.Variation,
        11 when name.SequenceEqual("contextKind"u8) => EventField.ContextKind,
        12 when name.SequenceEqual("creationDate"u8) => EventField.CreationDate,
        12 when name.SequenceEqual("defaultValue"u8) => EventField.DefaultValue,
        17 when name.SequenceEqual("evaluationContext"u8) => EventField.EvaluationContext,
        20 when name.SequenceEqual("trackingEventDetails"u8) => EventField.TrackingEventDetails,
        _ => EventField.Other,
    };

    /// <summary>The field's name as error messages give it.</summary>
    public static string NameOf(EventField field)
    {
        foreach ((string name, EventField candidate) in All)
        {
            if (candidate == field)
            {
                return name;
            }
        }

        return field.ToString();
    }
}
