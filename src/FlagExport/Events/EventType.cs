namespace FlagExport;

/// <summary>The two families of events; an exporter receives only one of them.</summary>
public enum EventType
{
    /// <summary>Flag evaluations (<see cref="FeatureEvent"/>).</summary>
    Feature,

    /// <summary>Tracking calls (<see cref="TrackingEvent"/>).</summary>
    Tracking,
}
