using FlagExport.FeatureManagement.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace FlagExport.FeatureManagement.Tests.Hosting;

/// <summary>
/// <c>AddFeatureManagement().AddFlagExport()</c>: real Microsoft.FeatureManagement evaluations, and the exact JSON lines
/// the file exporter writes for them.
/// </summary>
public sealed class AddFlagExportTests
{
    private const long Now = 1733230547;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(Now));

    [Fact]
    public async Task BooleanFlag_EnabledAndDisabled_ExportTrueAndFalse_WithTheETagAsVersion()
    {
        await using FlagsHost host = await FlagsHost.StartAsync("""
            { "feature_management": { "feature_flags": [
              { "id": "Beta", "enabled": true,
                "telemetry": { "enabled": true, "metadata": { "ETag": "etag-7", "Owner": "growth" } } },
              { "id": "Legacy", "enabled": false, "telemetry": { "enabled": true } }
            ] } }
            """, _time);

        Assert.True(await host.Features.IsEnabledAsync("Beta", TestContext.Current.CancellationToken));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await host.Features.IsEnabledAsync("Legacy", TestContext.Current.CancellationToken));

        // No variants: Microsoft.FeatureManagement resolves no targeting context, hence anonymous users.
        Assert.Equal(
            [
                $$$"""{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":{{{Now}}},"key":"Beta","variation":"True","value":true,"default":false,"version":"etag-7","source":"SERVER","metadata":{"ETag":"etag-7","Owner":"growth"}}""",
                $$$"""{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":{{{Now + 5}}},"key":"Legacy","variation":"False","value":false,"default":false,"version":"","source":"SERVER"}""",
            ],
            await host.ExportedLinesAsync());
    }

    private const string CheckoutFlag = """
        { "feature_management": { "feature_flags": [
          { "id": "Checkout", "enabled": true,
            "variants": [
              { "name": "Express", "configuration_value": { "steps": 1, "wallets": [ "apple", "google" ], "oneClick": true } },
              { "name": "Classic", "configuration_value": "classic" }
            ],
            "allocation": { "user": [ { "variant": "Express", "users": [ "alice" ] } ], "default_when_enabled": "Classic" },
            "telemetry": { "enabled": true, "metadata": { "ETag": "c-3", "AllocationId": "alloc-1" } } }
        ] } }
        """;

    [Fact]
    public async Task VariantFlag_WithUserAllocation_ExportsTheUsersVariantAndItsConfigurationValue()
    {
        await using FlagsHost host = await FlagsHost.StartAsync(CheckoutFlag, _time);

        Variant alice = await host.Features.GetVariantAsync("Checkout", new TargetingContext { UserId = "alice" }, TestContext.Current.CancellationToken);
        Variant bob = await host.Features.GetVariantAsync("Checkout", new TargetingContext { UserId = "bob" }, TestContext.Current.CancellationToken);
        Assert.True(await host.Features.IsEnabledAsync("Checkout", TestContext.Current.CancellationToken)); // no targeting context

        Assert.Equal(["Express", "Classic"], [alice.Name, bob.Name]);
        // Alice is allocated Express; Bob gets default_when_enabled (Default true); without a context nobody is
        // targeted, so the default again, for an anonymous user. The object's keys come sorted, as go-feature-flag's.
        Assert.Equal(
            [
                $$$"""{"kind":"feature","contextKind":"user","userKey":"alice","creationDate":{{{Now}}},"key":"Checkout","variation":"Express","value":{"oneClick":true,"steps":1,"wallets":["apple","google"]},"default":false,"version":"c-3","source":"SERVER","metadata":{"AllocationId":"alloc-1","ETag":"c-3"}}""",
                $$$"""{"kind":"feature","contextKind":"user","userKey":"bob","creationDate":{{{Now}}},"key":"Checkout","variation":"Classic","value":"classic","default":true,"version":"c-3","source":"SERVER","metadata":{"AllocationId":"alloc-1","ETag":"c-3"}}""",
                $$$"""{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":{{{Now}}},"key":"Checkout","variation":"Classic","value":"classic","default":true,"version":"c-3","source":"SERVER","metadata":{"AllocationId":"alloc-1","ETag":"c-3"}}""",
            ],
            await host.ExportedLinesAsync());
    }

    [Fact]
    public async Task DisabledFlag_ExportsItsDefaultWhenDisabledVariant_AsADefault()
    {
        await using FlagsHost host = await FlagsHost.StartAsync("""
            { "feature_management": { "feature_flags": [
              { "id": "Banner", "enabled": false,
                "variants": [ { "name": "Hidden", "configuration_value": false }, { "name": "Shown", "configuration_value": true } ],
                "allocation": { "user": [ { "variant": "Shown", "users": [ "carol" ] } ], "default_when_disabled": "Hidden" },
                "telemetry": { "enabled": true } }
            ] } }
            """, _time);

        Variant variant = await host.Features.GetVariantAsync("Banner", new TargetingContext { UserId = "carol" }, TestContext.Current.CancellationToken);

        // Disabled wins over carol's allocation. The configuration holds "False"; it is exported as the boolean it was.
        Assert.Equal("Hidden", variant.Name);
        Assert.Equal(
            [$$$"""{"kind":"feature","contextKind":"user","userKey":"carol","creationDate":{{{Now}}},"key":"Banner","variation":"Hidden","value":false,"default":true,"version":"","source":"SERVER"}"""],
            await host.ExportedLinesAsync());
    }

    [Fact]
    public async Task PercentileAllocation_ExportsTheVariantEachUserWasAssigned()
    {
        await using FlagsHost host = await FlagsHost.StartAsync("""
            { "feature_management": { "feature_flags": [
              { "id": "Ranking", "enabled": true,
                "variants": [ { "name": "Control", "configuration_value": 1 }, { "name": "Treatment", "configuration_value": 2.5 } ],
                "allocation": { "percentile": [ { "variant": "Control", "from": 0, "to": 50 }, { "variant": "Treatment", "from": 50, "to": 100 } ],
                                "seed": "ranking-test" },
                "telemetry": { "enabled": true } }
            ] } }
            """, _time);

        var expected = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            string user = $"user-{i}";
            Variant variant = await host.Features.GetVariantAsync("Ranking", new TargetingContext { UserId = user }, TestContext.Current.CancellationToken);
            string value = variant.Name == "Control" ? "1" : "2.5";
            expected.Add($$$"""{"kind":"feature","contextKind":"user","userKey":"{{{user}}}","creationDate":{{{Now}}},"key":"Ranking","variation":"{{{variant.Name}}}","value":{{{value}}},"default":false,"version":"","source":"SERVER"}""");
        }

        // Twenty users split over both halves: each row carries the variant Microsoft.FeatureManagement returned.
        Assert.Contains(expected, line => line.Contains("\"variation\":\"Control\"", StringComparison.Ordinal));
        Assert.Contains(expected, line => line.Contains("\"variation\":\"Treatment\"", StringComparison.Ordinal));
        Assert.Equal(expected, await host.ExportedLinesAsync());
    }

    [Fact]
    public async Task FlagWithoutTelemetry_ExportsNothing()
    {
        await using FlagsHost host = await FlagsHost.StartAsync("""
            { "feature_management": { "feature_flags": [
              { "id": "Quiet", "enabled": true },
              { "id": "QuietToo", "enabled": true, "telemetry": { "enabled": false } },
              { "id": "Loud", "enabled": true, "telemetry": { "enabled": true } }
            ] } }
            """, _time);

        Assert.True(await host.Features.IsEnabledAsync("Quiet", TestContext.Current.CancellationToken));
        Assert.True(await host.Features.IsEnabledAsync("QuietToo", TestContext.Current.CancellationToken));
        Assert.True(await host.Features.IsEnabledAsync("Loud", TestContext.Current.CancellationToken));

        Assert.Equal(
            [$$$"""{"kind":"feature","contextKind":"anonymousUser","userKey":"","creationDate":{{{Now}}},"key":"Loud","variation":"True","value":true,"default":false,"version":"","source":"SERVER"}"""],
            await host.ExportedLinesAsync());
    }

    [Fact]
    public async Task ScopedFeatureManagement_IsExportedTheSameWay()
    {
        await using FlagsHost host = await FlagsHost.StartAsync(CheckoutFlag, _time, scoped: true);

        Variant alice = await host.Features.GetVariantAsync("Checkout", new TargetingContext { UserId = "alice" }, TestContext.Current.CancellationToken);

        Assert.Equal("Express", alice.Name);
        Assert.Equal(
            [$$$"""{"kind":"feature","contextKind":"user","userKey":"alice","creationDate":{{{Now}}},"key":"Checkout","variation":"Express","value":{"oneClick":true,"steps":1,"wallets":["apple","google"]},"default":false,"version":"c-3","source":"SERVER","metadata":{"AllocationId":"alloc-1","ETag":"c-3"}}"""],
            await host.ExportedLinesAsync());
    }

    [Fact]
    public async Task ScopedSnapshot_ExportsTheFirstEvaluationOfEachScopeOnly()
    {
        await using FlagsHost host = await FlagsHost.StartAsync("""
            { "feature_management": { "feature_flags": [ { "id": "Beta", "enabled": true, "telemetry": { "enabled": true } } ] } }
            """, _time);

        for (int scope = 0; scope < 2; scope++)
        {
            using Microsoft.Extensions.DependencyInjection.IServiceScope requestScope =
                Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(host.Services);
            IVariantFeatureManagerSnapshot snapshot = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
                .GetRequiredService<IVariantFeatureManagerSnapshot>(requestScope.ServiceProvider);
            for (int call = 0; call < 3; call++)
            {
                Assert.True(await snapshot.IsEnabledAsync("Beta", TestContext.Current.CancellationToken));
            }
        }

        // The snapshot answers from its cache after the first call: one evaluation, one row, per scope.
        Assert.Equal(2, (await host.ExportedLinesAsync()).Length);
    }
}
