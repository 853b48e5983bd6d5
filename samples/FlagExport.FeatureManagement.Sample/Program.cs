// An ASP.NET Core app whose Microsoft.FeatureManagement evaluations FlagExport writes as go-feature-flag's JSON lines.
// The flags are in appsettings.json ("feature_management", with "telemetry": { "enabled": true }, without which
// Microsoft.FeatureManagement publishes nothing), and so is the exporter ("FlagExport").
// Run it from the repository root with: dotnet run --project samples/FlagExport.FeatureManagement.Sample --urls http://localhost:5000
// then: curl 'http://localhost:5000/greeting?user=alice'. The rows land in exports/ of the folder the app runs in (the
// sample's own with dotnet run) every 10 seconds, and when the app stops (Ctrl-C).
using FlagExport;
using FlagExport.FeatureManagement;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddFeatureManagement().AddFlagExport();
builder.Services.AddFlagExport(export => export.AddFileExporter("json"));

WebApplication app = builder.Build();

// The greeting is the configuration value of the variant the Greeting flag assigns to the user: one evaluation, one row.
app.MapGet("/greeting", async (string? user, IVariantFeatureManager features, CancellationToken cancellationToken) =>
{
    Variant variant = await features.GetVariantAsync("Greeting", new TargetingContext { UserId = user }, cancellationToken);
    return variant?.Configuration?.Value ?? "Hello";
});

app.Run();
