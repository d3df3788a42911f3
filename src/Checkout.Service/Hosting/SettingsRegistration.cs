namespace CheckoutService;

internal static class SettingsRegistration
{
    public static IServiceCollection AddCheckoutSettings(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .BindConfiguration(string.Empty)
            .ValidateDataAnnotations()
            .Validate(s => Storage.RedisConnection.IsValid(s.RedisUrl), "REDIS_URL must be a redis:// URL or a StackExchange.Redis configuration string.")
            .Validate(s => Edge.EdgeProtections.AreValidProxies(s.TrustedProxies), "TRUSTED_PROXIES must be IP addresses or CIDR ranges, comma-separated.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        return services;
    }
}
