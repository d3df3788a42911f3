using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using PaymentGateway.Contracts;

namespace PaymentGateway.Simulator;

public sealed class SimulatorOptions
{
    /// <summary>When set, every call must carry <c>X-Service-Auth: Bearer {token}</c>.</summary>
    public string? ServiceToken { get; set; }

    /// <summary>Added to every intent call, as Stripe's own latency would be; tests may change it on <see cref="GatewaySimulator.Latency"/>.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>
    /// Origins whose pages may embed the card field and the challenge, and receive shoppers back
    /// (<c>return_url</c>); anything else is refused.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = ["https://www.vantage.com", "https://staging.vantage.com"];

    /// <summary>Also allow http(s)://127.0.0.1, localhost and [::1] on any port: the service as tests and developers run it.</summary>
    public bool AllowLoopbackOrigins { get; set; } = true;

    /// <summary>
    /// Where browsers reach the simulator, for the links it hands out (the challenge page); by
    /// default the address the API call came in on.
    /// </summary>
    public Uri? PublicUrl { get; set; }
}

/// <summary>The body of <c>POST /_control</c>, and its answer: a field left out keeps its value.</summary>
public sealed record SimulatorControl(int? LatencyMs, bool? Outage);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SimulatorControl))]
internal sealed partial class SimulatorJson : JsonSerializerContext;

public static class SimulatorApi
{
    public static IServiceCollection AddGatewaySimulator(this IServiceCollection services, Action<SimulatorOptions>? configure = null, TimeProvider? time = null)
    {
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddSingleton<WebhookSender>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookSender>());
        services.AddSingleton(sp => OriginAllowList.From(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SimulatorOptions>>().Value));
        services.AddSingleton(sp => new GatewaySimulator(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<WebhookSender>(), sp.GetRequiredService<OriginAllowList>())
        {
            Latency = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SimulatorOptions>>().Value.Latency,
        });
        services.AddOptions<SimulatorOptions>().Configure(o => configure?.Invoke(o));
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJson.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, SimulatorJson.Default);
            o.SerializerOptions.PropertyNamingPolicy = GatewayJson.Default.Options.PropertyNamingPolicy;
        });
        return services;
    }

    public static IEndpointRouteBuilder MapGatewaySimulator(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").AddEndpointFilter(RequireServiceAuth).AddEndpointFilter(AddLatency);
        api.MapPost("/intents/create", CreateIntent);
        api.MapPost("/intents/confirm", ConfirmIntent);
        api.MapGet("/intents", FindIntent);
        api.MapPost("/intents/{intentId}/void", VoidIntent);
        api.MapGet("/ledger", Ledger);
        app.MapStripeBrowserSide();
        return app;
    }

    /// <summary>
    /// <c>POST /_control {"latency_ms": 2000, "outage": true}</c>: the gateway turns slow or down, and
    /// back, while it runs, as in a brownout (tools/LoadTest's gateway-brownout). Only the standalone
    /// simulator maps it; in-process users set <see cref="GatewaySimulator"/>'s properties directly.
    /// </summary>
    public static IEndpointRouteBuilder MapSimulatorControl(this IEndpointRouteBuilder app)
    {
        app.MapPost("/_control", Control).AddEndpointFilter(RequireServiceAuth);
        return app;
    }

    private static Results<Ok<SimulatorControl>, BadRequest<GatewayError>> Control(SimulatorControl control, GatewaySimulator simulator)
    {
        if (control.LatencyMs < 0)
        {
            return TypedResults.BadRequest(new GatewayError("INVALID_REQUEST", "latency_ms must not be negative"));
        }
        if (control.LatencyMs is { } ms)
        {
            simulator.Latency = TimeSpan.FromMilliseconds(ms);
        }
        if (control.Outage is { } outage)
        {
            simulator.InOutage = outage;
        }
        return TypedResults.Ok(new SimulatorControl((int)simulator.Latency.TotalMilliseconds, simulator.InOutage));
    }

    private static async Task<IResult> CreateIntent(CreateIntentRequest request, HttpContext context, GatewaySimulator simulator)
    {
        var outcome = request is not { PaymentMethodId: not null, Currency: not null, Metadata.CartId: not null } || request.Amount <= 0
            ? null
            : simulator.CreateIntent(request, IdempotencyKey(context));
        if (outcome is GatewaySimulator.Hang)
        {
            // Stripe did the work but the answer never comes back: hold the call until the caller gives up.
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return TypedResults.Empty;
        }
        return outcome switch
        {
            null => TypedResults.BadRequest(new GatewayError("INVALID_REQUEST", "amount, currency, payment_method_id and metadata.cart_id are required")),
            GatewaySimulator.Created created => Respond(context, new CreateIntentResponse(
                created.Intent.IntentId, created.Intent.Status, created.ClientSecret, created.Intent.Amount,
                created.Intent.Currency, ["card"])),
            var other => Fail(other),
        };
    }

    private static IResult ConfirmIntent(ConfirmIntentRequest request, HttpContext context, GatewaySimulator simulator) =>
        request.IntentId is null
            ? TypedResults.BadRequest(new GatewayError("INVALID_REQUEST", "intent_id is required"))
            : simulator.ConfirmIntent(request, IdempotencyKey(context)) switch
        {
            GatewaySimulator.Confirmed { Intent: { Status: IntentStatus.RequiresAction } intent } => Respond(context, new ConfirmIntentResponse(
                intent.IntentId, intent.Status, 0m, intent.Currency, null, simulator.ClientSecretOf(intent.IntentId),
                new NextAction(NextAction.RedirectToUrlType, new RedirectToUrl(
                    StripeBrowserApi.ChallengeUrl(context, intent.IntentId, simulator.ClientSecretOf(intent.IntentId)), intent.ReturnUrl!)))),
            GatewaySimulator.Confirmed confirmed => Respond(context, new ConfirmIntentResponse(
                confirmed.Intent.IntentId, confirmed.Intent.Status, confirmed.Intent.Amount, confirmed.Intent.Currency,
                confirmed.Intent.ChargeId)),
            var other => Fail(other),
        };

    private static IResult FindIntent([FromQuery(Name = "idempotency_key")] string idempotencyKey, GatewaySimulator simulator) =>
        simulator.FindByIdempotencyKey(idempotencyKey) is { } intent
            ? TypedResults.Ok(intent)
            : TypedResults.NotFound(new GatewayError("INTENT_NOT_FOUND", "No intent was created under that idempotency key"));

    private static IResult VoidIntent(string intentId, GatewaySimulator simulator) =>
        simulator.VoidsFail ? Fail(GatewaySimulator.Unavailable())
        : simulator.Void(intentId) is { } intent
            ? TypedResults.Ok(intent)
            : TypedResults.NotFound(new GatewayError("INTENT_NOT_FOUND", $"No such payment intent: {intentId}"));

    private static LedgerResponse Ledger([FromQuery(Name = "cart_id")] string cartId, GatewaySimulator simulator) => simulator.Ledger(cartId);

    private static Ok<T> Respond<T>(HttpContext context, T body)
    {
        context.Response.Headers["X-Stripe-Request-ID"] = "req_stripe_" + RandomNumberGenerator.GetHexString(12, lowercase: true);
        return TypedResults.Ok(body);
    }

    private static JsonHttpResult<GatewayError> Fail(GatewaySimulator.Outcome outcome) => outcome is GatewaySimulator.Failed failed
        ? TypedResults.Json(failed.Error, GatewayJson.Default.GatewayError, statusCode: failed.StatusCode)
        : throw new InvalidOperationException($"Unexpected outcome {outcome}");

    private static string IdempotencyKey(HttpContext context) => context.Request.Headers["Idempotency-Key"].ToString();

    private static async ValueTask<object?> RequireServiceAuth(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = context.HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<SimulatorOptions>>().Value.ServiceToken;
        if (!string.IsNullOrEmpty(expected))
        {
            var sent = context.HttpContext.Request.Headers["X-Service-Auth"].ToString();
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), Encoding.UTF8.GetBytes("Bearer " + expected)))
            {
                return TypedResults.Json(new GatewayError("UNAUTHORIZED", "Missing or invalid X-Service-Auth"), GatewayJson.Default.GatewayError, statusCode: 401);
            }
        }
        return await next(context);
    }

    private static async ValueTask<object?> AddLatency(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var services = context.HttpContext.RequestServices;
        var simulator = services.GetRequiredService<GatewaySimulator>();
        var request = context.HttpContext.Request;
        simulator.Record(request.Path, request.Headers["Idempotency-Key"].ToString(),
            int.TryParse(request.Headers["X-Retry-Attempt"], System.Globalization.CultureInfo.InvariantCulture, out var attempt) ? attempt : 0,
            request.Headers["traceparent"].FirstOrDefault());
        var latency = simulator.Latency;
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, TimeProvider.System, context.HttpContext.RequestAborted);
        }
        return await next(context);
    }
}
