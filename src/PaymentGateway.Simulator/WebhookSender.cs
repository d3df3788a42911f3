using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using PaymentGateway.Contracts;
using Stripe;

namespace PaymentGateway.Simulator;

/// <summary>Where the simulator posts its webhooks, and the secret it signs them with.</summary>
public sealed record WebhookTarget(Uri Url, string Secret);

/// <summary>
/// Sends Stripe-format events for the simulator's intents, signed as Stripe signs them
/// (<c>Stripe-Signature: t=…,v1=…</c>), from a bounded queue in the background, as Stripe
/// delivers: after the API answered, with retries, never in the caller's way.
/// </summary>
public sealed class WebhookSender(TimeProvider time) : BackgroundService
{
    private const int Capacity = 10_000;

    private readonly Channel<string> _queue = Channel.CreateBounded<string>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Null: no webhooks are sent.</summary>
    public WebhookTarget? Target { get; set; }

    public void IntentSucceeded(IntentRecord intent) => Enqueue("payment_intent.succeeded", PaymentIntent(intent));

    /// <summary>Sent when a 3-D Secure challenge fails, so a service whose shopper never came back can reopen the cart.</summary>
    public void IntentPaymentFailed(IntentRecord intent) => Enqueue("payment_intent.payment_failed", PaymentIntent(intent));

    public void IntentVoided(IntentRecord intent) => Enqueue(
        intent.Status == IntentStatus.Refunded ? "charge.refunded" : "payment_intent.canceled",
        intent.Status == IntentStatus.Refunded ? Charge(intent) : PaymentIntent(intent));

    private void Enqueue(string type, JsonObject item)
    {
        if (Target is null)
        {
            return;
        }
        var payload = new JsonObject
        {
            ["id"] = "evt_sim_" + RandomNumberGenerator.GetHexString(16, lowercase: true),
            ["object"] = "event",
            ["api_version"] = "2025-09-30.clover",
            ["created"] = time.GetUtcNow().ToUnixTimeSeconds(),
            ["type"] = type,
            ["data"] = new JsonObject { ["object"] = item },
        };
        _queue.Writer.TryWrite(payload.ToJsonString());
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var payload in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            for (var attempt = 0; attempt < 3 && Target is { } target; attempt++)
            {
                if (await TrySendAsync(target, payload, stoppingToken))
                {
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(200 << attempt), time, stoppingToken);
            }
        }
    }

    private async Task<bool> TrySendAsync(WebhookTarget target, string payload, CancellationToken cancellationToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
        {
            Content = new StringContent(payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", $"t={timestamp},v1={EventUtility.ComputeSignature(target.Secret, timestamp, payload)}");
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private static JsonObject PaymentIntent(IntentRecord intent)
    {
        var item = new JsonObject
        {
            ["id"] = intent.IntentId,
            ["object"] = "payment_intent",
            ["amount"] = StripePaymentIntent.Cents(intent.Amount),
            ["amount_received"] = intent.Status == IntentStatus.Succeeded ? StripePaymentIntent.Cents(intent.Amount) : 0,
            ["currency"] = intent.Currency.ToLowerInvariant(),
            ["status"] = intent.Status,
            ["payment_method"] = intent.PaymentMethodId,
            ["latest_charge"] = intent.ChargeId,
            ["metadata"] = Metadata(intent),
        };
        if (intent.LastPaymentError is { } error)
        {
            item["last_payment_error"] = new JsonObject { ["type"] = "card_error", ["code"] = error.Error, ["decline_code"] = error.DeclineCode, ["message"] = error.Message };
        }
        return item;
    }

    /// <summary>The metadata the intent was created with, as Stripe echoes it: what a service needs to find its purchase.</summary>
    private static JsonObject Metadata(IntentRecord intent)
    {
        var metadata = new JsonObject { ["cart_id"] = intent.CartId };
        if (intent.Metadata is { } given)
        {
            metadata["checkout_type"] = given.CheckoutType;
            if (given.SessionId is { } sessionId)
            {
                metadata["session_id"] = sessionId;
            }
        }
        return metadata;
    }

    private static JsonObject Charge(IntentRecord intent) => new()
    {
        ["id"] = intent.ChargeId,
        ["object"] = "charge",
        ["payment_intent"] = intent.IntentId,
        ["amount"] = StripePaymentIntent.Cents(intent.Amount),
        ["amount_refunded"] = StripePaymentIntent.Cents(intent.Amount),
        ["refunded"] = true,
        ["metadata"] = Metadata(intent),
    };
}
