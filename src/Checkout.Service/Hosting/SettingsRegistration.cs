namespace CheckoutService;

internal static class SettingsRegistration
{
    public static IServiceCollection AddCheckoutSettings(this IServiceCollection services)
    {
        services.AddOptions<CheckoutSettings>()
            .BindConfiguration(string.Empty)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        return services;
    }
}
