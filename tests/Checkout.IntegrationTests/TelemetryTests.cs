using System.Diagnostics;
using System.Net;
using CheckoutService.IntegrationTests.Infrastructure;
using CheckoutService.Observability;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace CheckoutService.IntegrationTests;

/// <summary>The spans operators read in APM: captured with OpenTelemetry's in-memory exporter.</summary>
public sealed class TelemetryTests : IAsyncDisposable
{
    private readonly List<Activity> _spans = [];
    private readonly CheckoutApp _app;

    public TelemetryTests() => _app = new CheckoutApp
    {
        ReplaceServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)),
    };

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task<(Reply Reply, Activity Complete, Activity Handoff)> CheckoutAsync(string paymentMethodId)
    {
        using var shopper = _app.Shopper();
        var cartId = await shopper.CreateCartAsync(("SKU-CHARGER-65W", 1));
        var reply = await shopper.CheckoutAsync(ShopperClient.CheckoutBody(cartId, paymentMethodId));
        Activity[] spans;
        lock (_spans)
        {
            spans = [.. _spans];
        }
        var complete = Assert.Single(spans, s => s.OperationName == CheckoutTelemetry.CompleteSpan && (string?)s.GetTagItem("cart_id") == cartId);
        var handoff = Assert.Single(spans, s => s.OperationName == CheckoutTelemetry.PaymentHandoffSpan && s.ParentSpanId == complete.SpanId);
        return (reply, complete, handoff);
    }

    private static string[] Events(Activity span, string name) =>
        [.. span.Events.Where(e => e.Name == name).Select(e => string.Join(",", e.Tags.Select(t => $"{t.Key}={t.Value}")))];

    [Fact]
    public async Task Success_HandoffIsAClientChildWithEveryAttributeAndOk()
    {
        var (reply, complete, handoff) = await CheckoutAsync("pm_stripe_4f9c2a1b");

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal(ActivityKind.Client, handoff.Kind);
        Assert.Equal(complete.TraceId, handoff.TraceId);
        Assert.Equal(reply.Header("X-Trace-ID"), complete.TraceId.ToHexString());
        Assert.Equal(ActivityStatusCode.Ok, complete.Status);
        Assert.Equal(ActivityStatusCode.Ok, handoff.Status);
        Assert.Equal("card", handoff.GetTagItem("payment_method_type"));
        Assert.Equal(0, handoff.GetTagItem("retry_count"));
        Assert.IsType<long>(handoff.GetTagItem("payment_gateway_response_time_ms"));
        Assert.StartsWith("pi_sim_", (string)handoff.GetTagItem("payment_intent_id")!, StringComparison.Ordinal);
        Assert.StartsWith("req_stripe_", (string)handoff.GetTagItem("stripe_request_id")!, StringComparison.Ordinal);
        Assert.Equal(2, Events(handoff, "payment_attempt_start").Length); // create, confirm
        Assert.All(Events(handoff, "payment_attempt_result"), e => Assert.Contains("status_code=200", e, StringComparison.Ordinal));
        Assert.Empty(Events(handoff, "payment_retry_backoff"));

        // The gateway got the W3C context of this trace.
        var call = _app.Gateway.Calls.Last(c => c.Path.EndsWith("/confirm", StringComparison.Ordinal));
        Assert.Contains(handoff.TraceId.ToHexString(), call.TraceParent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetriedSuccess_CountsTheRetryAndRecordsTheBackoff()
    {
        var (reply, _, handoff) = await CheckoutAsync("pm_stripe_4f9c_flaky");

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal(ActivityStatusCode.Ok, handoff.Status);
        Assert.Equal(1, handoff.GetTagItem("retry_count"));
        Assert.Equal(["wait_duration_ms=10,attempt=1"], Events(handoff, "payment_retry_backoff"));
        Assert.Contains(Events(handoff, "payment_attempt_result"), e => e.Contains("status_code=502", StringComparison.Ordinal));
        Assert.Equal(3, Events(handoff, "payment_attempt_start").Length); // create, create again, confirm
    }

    [Fact]
    public async Task TerminalFailure_IsErrorOnBothSpansAfterEveryRetry()
    {
        var (reply, complete, handoff) = await CheckoutAsync("pm_stripe_1a2b_down");

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Equal(ActivityStatusCode.Error, handoff.Status);
        Assert.Equal(ActivityStatusCode.Error, complete.Status);
        Assert.Equal(3, handoff.GetTagItem("retry_count"));
        Assert.Equal(["wait_duration_ms=10,attempt=1", "wait_duration_ms=20,attempt=2", "wait_duration_ms=40,attempt=3"],
            Events(handoff, "payment_retry_backoff"));
        Assert.Null(handoff.GetTagItem("payment_intent_id"));
    }
}
