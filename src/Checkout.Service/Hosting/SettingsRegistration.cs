namespace CheckoutService;

internal static class SettingsRegistration
{
    public static IServiceCollection AddCheckoutSettings(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .BindConfiguration(string.Empty)
            .ValidateDataAnnotations()
            .Validate(s => Storage.RedisConnection.IsValid(s.RedisUrl), "REDIS_URL must be a redis:// URL or a StackExchange.Redis configuration string.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        return services;
    }
}
