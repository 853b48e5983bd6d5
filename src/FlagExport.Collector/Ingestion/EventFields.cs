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
    /// <see cref="StringComparison.OrdinalIgnoreCase"/> compares the decoded name; plain ASCII names, which are all that
    /// providers send, are compared in place without decoding.
    /// </summary>
    public static EventField Find(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence && Ascii.IsValid(reader.ValueSpan))
        {
            ReadOnlySpan<byte> name = reader.ValueSpan;
            foreach ((string candidate, EventField field) in All)
            {
                if (candidate.Length == name.Length && Ascii.EqualsIgnoreCase(name, candidate))
                {
                    return field;
                }
            }

            return EventField.Other;
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
