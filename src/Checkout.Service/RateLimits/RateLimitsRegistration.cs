using System.Threading.RateLimiting;
using CheckoutService.Edge;
using CheckoutService.Observability;
using CheckoutService.Storage;
using Microsoft.AspNetCore.RateLimiting;
using StackExchange.Redis;

namespace CheckoutService.RateLimits;

public static class RateLimitsRegistration
{
    public static IServiceCollection AddRateLimits(this IServiceCollection services)
    {
        services.AddSingleton<IRateLimitCounters>(sp => StorageRegistration.UsesRedis(sp)
            ? new RedisRateLimitCounters(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<CheckoutMetrics>())
            : new InMemoryRateLimitCounters(sp.GetRequiredService<InMemoryTables>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IDeclineCounters>(sp => StorageRegistration.UsesRedis(sp)
            ? new RedisDeclineCounters(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<CheckoutMetrics>())
            : new InMemoryDeclineCounters(sp.GetRequiredService<InMemoryTables>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<DeclineLimits>();
        services.AddSingleton<SharedRateLimiter>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<SharedRateLimiter>((options, limiter) =>
        {
            options.GlobalLimiter = limiter;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)wait.TotalSeconds : 60;
                return new ValueTask(ApiError.Of(Errors.RateLimited.RetryAfter(retryAfter))
                    .ExecuteAsync(context.HttpContext));
            };
        });
        return services;
    }

    /// <summary>Limits an endpoint to <paramref name="perMinute"/> requests per client IP per minute.</summary>
    public static TBuilder PerClientPerMinute<TBuilder>(this TBuilder endpoint, string name, int perMinute) where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new RateLimitPolicy(name, perMinute, TimeSpan.FromMinutes(1)));

    /// <summary>Limits the form posts of an endpoint's pages to <paramref name="perMinute"/> per client IP per minute; GETs are free.</summary>
    public static TBuilder FormPostsPerClientPerMinute<TBuilder>(this TBuilder endpoint, string name, int perMinute) where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new RateLimitPolicy(name, perMinute, TimeSpan.FromMinutes(1), PostsOnly: true));

    /// <summary>
    /// Limits an endpoint to <paramref name="perMinute"/> requests per minute for each partition
    /// <paramref name="partitionOf"/> names for a request (one session's writes), whichever client sends them.
    /// </summary>
    public static TBuilder PerPartitionPerMinute<TBuilder>(this TBuilder endpoint, string name, int perMinute, Func<HttpContext, string> partitionOf)
        where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new RateLimitPolicy(name, perMinute, TimeSpan.FromMinutes(1), partitionOf));
}
