namespace PaymentGateway.Simulator;

/// <summary>
/// Runs the simulator as its own process (<c>dotnet run --project src/PaymentGateway.Simulator</c>),
/// listening on <c>SIMULATOR_URL</c> (default http://127.0.0.1:8081), with <c>POST /_control</c> to
/// change its latency and outage while it runs. Its browser pages return shoppers only to
/// <c>SIMULATOR_ALLOWED_ORIGINS</c> (comma-separated; loopback origins always) and link to
/// themselves at <c>SIMULATOR_PUBLIC_URL</c>.
/// </summary>
public static class Program
{
    public static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.UseUrls(builder.Configuration["SIMULATOR_URL"] ?? "http://127.0.0.1:8081");
        builder.Services.AddGatewaySimulator(o =>
        {
            o.ServiceToken = builder.Configuration["PAYMENT_GATEWAY_SERVICE_TOKEN"];
            o.Latency = TimeSpan.FromMilliseconds(int.TryParse(builder.Configuration["SIMULATOR_LATENCY_MS"], out var ms) ? ms : 0);
            // Where browsers reach it (behind compose or k8s that is not the address the service calls).
            o.PublicUrl = builder.Configuration["SIMULATOR_PUBLIC_URL"] is { Length: > 0 } publicUrl ? new Uri(publicUrl) : null;
            if (builder.Configuration["SIMULATOR_ALLOWED_ORIGINS"] is { Length: > 0 } origins)
            {
                o.AllowedOrigins.Clear();
                foreach (var origin in origins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    o.AllowedOrigins.Add(origin);
                }
            }
        });
        var app = builder.Build();
        app.MapGatewaySimulator();
        app.MapSimulatorControl();
        if (builder.Configuration["SIMULATOR_WEBHOOK_URL"] is { Length: > 0 } webhookUrl
            && builder.Configuration["STRIPE_WEBHOOK_SECRET"] is { Length: > 0 } secret)
        {
            app.Services.GetRequiredService<WebhookSender>().Target = new WebhookTarget(new Uri(webhookUrl), secret.Split(',')[0]);
        }
        await app.RunAsync();
    }
}
