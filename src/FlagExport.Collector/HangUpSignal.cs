using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;

namespace FlagExport.Collector;

/// <summary>
/// Makes SIGHUP stop the collector as SIGTERM does. The host handles SIGTERM, SIGINT and SIGQUIT; SIGHUP's default
/// would end the process at once, losing the events accepted but not yet written (there is no configuration to reload).
/// </summary>
internal static class HangUpSignal
{
    /// <summary>Handles SIGHUP for <paramref name="app"/> until the returned registration is disposed.</summary>
    public static PosixSignalRegistration StopOnHangUp(WebApplication app) =>
        PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // no default action: the host's stop writes what is pending, then the process exits
            app.Lifetime.StopApplication();
        });
}
