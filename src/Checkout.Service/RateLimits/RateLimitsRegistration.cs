using System.Globalization;
using System.Threading.RateLimiting;
using CheckoutService.Edge;
using Microsoft.AspNetCore.RateLimiting;
using CheckoutService.Storage;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CheckoutService.RateLimits;

public static class RateLimitsRegistration
{
    public static IServiceCollection AddRateLimits(this IServiceCollection services)
    {
        services.AddSingleton<IRateLimitCounters>(sp => StorageRegistration.UsesRedis(sp)
            ? new RedisRateLimitCounters(sp.GetRequiredService<IConnectionMultiplexer>())
            : new InMemoryRateLimitCounters(sp.GetRequiredService<InMemoryTables>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SharedRateLimiter>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<SharedRateLimiter>((options, limiter) =>
        {
            options.GlobalLimiter = limiter;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)wait.TotalSeconds : 60;
                return new ValueTask(ApiError.Of(429, "RATE_LIMITED", "Too many requests. Please wait a moment and try again.", retryAfter)
                    .ExecuteAsync(context.HttpContext));
            };
        });
        return services;
    }

    /// <summary>The log's Kong limits, configurable for load tests.</summary>
    public static RateLimitPolicy Checkout(IServiceProvider services) =>
        new("checkout", services.GetRequiredService<IOptions<CheckoutSettings>>().Value.CheckoutRateLimitPerMinute, TimeSpan.FromMinutes(1));

    public static RateLimitPolicy SessionReads(IServiceProvider services) =>
        new("session-read", services.GetRequiredService<IOptions<CheckoutSettings>>().Value.SessionReadRateLimitPerMinute, TimeSpan.FromMinutes(1));
}
