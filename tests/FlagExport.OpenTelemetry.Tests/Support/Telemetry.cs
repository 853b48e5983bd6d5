using System.Diagnostics;
using OpenTelemetry.Metrics;

namespace FlagExport.OpenTelemetry.Tests.Support;

/// <summary>
/// Reading what OpenTelemetry's in-memory exporters collected for one exporter: the source and the meter are
/// process-wide, so parallel tests' pipelines report there too, under other <c>flagexport.exporter</c> names.
/// </summary>
internal static class Telemetry
{
    public static Activity[] Spans(IEnumerable<Activity> exported, string exporterName, string operationName)
    {
        lock (exported)
        {
            return [.. exported.Where(a => a.OperationName == operationName && a.GetTagItem("flagexport.exporter") as string == exporterName)];
        }
    }

    /// <summary>The sum of a counter's points (or a histogram's count) tagged with <paramref name="exporterName"/> and the given tag, if any.</summary>
    public static long Sum(IEnumerable<Metric> exported, string metricName, string exporterName, (string Key, string Value)? tag = null)
    {
        long sum = 0;
        foreach (Metric metric in exported.Where(m => m.Name == metricName))
        {
            foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
            {
                if (!Has(point, "flagexport.exporter", exporterName) || (tag is { } t && !Has(point, t.Key, t.Value)))
                {
                    continue;
                }

                sum += metric.MetricType switch
                {
                    MetricType.Histogram => point.GetHistogramCount(),
                    MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                    _ => throw new InvalidOperationException($"{metricName} is a {metric.MetricType}"),
                };
            }
        }

        return sum;
    }

    /// <summary>The sum of a histogram's recorded values for <paramref name="exporterName"/>.</summary>
    public static double HistogramSum(IEnumerable<Metric> exported, string metricName, string exporterName)
    {
        double sum = 0;
        foreach (Metric metric in exported.Where(m => m.Name == metricName))
        {
            foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
            {
                if (Has(point, "flagexport.exporter", exporterName))
                {
                    sum += point.GetHistogramSum();
                }
            }
        }

        return sum;
    }

    private static bool Has(in MetricPoint point, string key, string value)
    {
        foreach (KeyValuePair<string, object?> tag in point.Tags)
        {
            if (tag.Key == key && tag.Value as string == value)
            {
                return true;
            }
        }

        return false;
    }
}
