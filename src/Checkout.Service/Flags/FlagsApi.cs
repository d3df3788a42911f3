using System.Text.Json.Serialization;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.RateLimits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.FeatureManagement;

namespace CheckoutService.Flags;

/// <summary>The page's view of the flag: <c>GET /api/v2/flags/guest_checkout_v2</c> → <c>{enabled, bucket, reason}</c>.</summary>
public static class FlagsApi
{
    public const int ReadsPerClientPerMinute = 120;

    public static IServiceCollection AddFlags(this IServiceCollection services)
    {
        services.AddApiJson(FlagsJson.Default);
        services.AddSingleton<IFlagStore, SqlFlagStore>();
        services.AddSingleton<GuestCheckoutFlag>();
        services.AddHostedService<FlagRefresher>();
        services.AddSingleton<IFeatureDefinitionProvider, FlagDefinitions>();
        services.AddFeatureManagement().AddFeatureFilter<VisitorTargetingFilter>();
        return services;
    }

    public static IEndpointRouteBuilder MapFlags(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v2/flags/{name}", ReadAsync).PerClientPerMinute("flag-read", ReadsPerClientPerMinute);
        return app;
    }

    public static async Task<Results<Ok<FlagDecision>, ApiError>> ReadAsync(
        string name, HttpContext context, GuestCheckoutFlag flag, IFeatureManager features, CheckoutMetrics metrics)
    {
        if (name != FlagState.GuestCheckoutV2)
        {
            return ApiError.Of(Errors.FlagNotFound.Saying($"There is no flag {name[..Math.Min(name.Length, 64)]}"));
        }
        return TypedResults.Ok(await flag.DecideAsync(context, features, metrics));
    }
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(FlagDecision))]
internal sealed partial class FlagsJson : JsonSerializerContext;
