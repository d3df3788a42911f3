namespace CheckoutService;

internal static class SettingsRegistration
{
    /// <summary>
    /// Binds <see cref="CheckoutSettings"/> from the environment and checks it before the host
    /// starts; each capability adds the checks of its own settings in its <c>AddX()</c>.
    /// </summary>
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
