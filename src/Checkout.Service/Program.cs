using CheckoutService;
using CheckoutService.Accounts;
using CheckoutService.Addresses;
using CheckoutService.Analytics;
using CheckoutService.Carts;
using CheckoutService.Checkout;
using CheckoutService.Edge;
using CheckoutService.Events;
using CheckoutService.Flags;
using CheckoutService.Idempotency;
using CheckoutService.Observability;
using CheckoutService.Orders;
using CheckoutService.Page;
using CheckoutService.Payments;
using CheckoutService.RateLimits;
using CheckoutService.Sessions;
using CheckoutService.Storage;
using CheckoutService.Webhooks;
using Microsoft.Extensions.Options;

// The content root is the app's folder, so appsettings.json is found wherever the service is started from.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
if (string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]) && string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:8080");
}

builder.AddObservability();
builder.Services
    .AddCheckoutSettings()
    .AddErrorHandling()
    .AddEdgeProtections()
    .AddApiDocs()
    .AddHealth()
    .AddSharedState()
    .AddDatabase()
    .AddEvents()
    .AddFlags()
    .AddRateLimits()
    .AddCarts()
    .AddSessions()
    .AddOrders()
    .AddPayments()
    .AddCheckout()
    .AddWebhooks()
    .AddAccounts()
    .AddAnalytics()
    .AddAddresses()
    .AddPage();

try
{
    await using var app = builder.Build();

    // An operator's command (events tail, flags …) runs against the same settings and stores, then exits.
    if (args is ["events" or "flags", ..])
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        await Migrations.ApplyAsync(app.Services.GetRequiredService<Database>(), app.Services.GetRequiredService<TimeProvider>(), stop.Token);
        return args[0] == "events"
            ? await EventsTail.RunAsync(app.Services, args, Console.Out, stop.Token)
            : await FlagsCommand.RunAsync(app.Services, args, Console.Out, stop.Token);
    }

    app.UseRequestIds();
    app.UseErrorHandling();
    app.UseEdgeProtections();
    app.UseCheckoutPagePolicy();
    app.UsePageAssets();
    app.UseRouting();
    app.UseCors();
    // Each body is read once, here, and everything after reads that buffer.
    app.UseBufferedBodies();
    // Idempotency-Key is claimed while the rate limiter counts, and checked at the gate after it.
    app.UseMiddleware<IdempotencyMiddleware>();
    app.UseRateLimiter();
    app.UseAntiforgery();
    app.UseFlagGate();
    app.UseMiddleware<IdempotencyGate>();

    app.MapCarts();
    app.MapSessions();
    app.MapCheckout();
    app.MapOrders();
    app.MapWebhooks();
    app.MapAccounts();
    app.MapAnalytics();
    app.MapAddresses();
    app.MapFlags();
    app.MapHealth();
    app.MapApiDocs();
    app.MapPage();

    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is OptionsValidationException or InvalidOperationException { Source: "Microsoft.Extensions.Configuration.Binder" })
{
    // A bad setting is the operator's to fix: one line naming the variable, not a stack trace.
    await Console.Error.WriteLineAsync("checkout-service did not start: " + e.Message);
    return 1;
}
