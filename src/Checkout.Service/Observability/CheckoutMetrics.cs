using Microsoft.Extensions.Options;
using Prometheus;

namespace CheckoutService.Observability;

/// <summary>
/// The service's Prometheus metrics, under the names the dashboards and alerts use
/// (deploy/grafana, deploy/prometheus). Each host has its own registry, so tests hosting several
/// replicas in one process never share a count. Every known label set exists at 0 from start-up,
/// so rate() and the alerts see a series before the first checkout or the first error.
/// </summary>
public sealed class CheckoutMetrics
{
    public const string GuestV2 = "guest_v2";
    public const string Legacy = "legacy";
    public const string GuestCheckoutType = "guest";

    /// <summary>The gateway failures the error-rate panel tracks, the decline, and the intent that waits for 3-D Secure.</summary>
    public static readonly string[] PaymentErrorCodes = ["502", "503", "504", "timeout", "network_error", "card_declined", AuthenticationRequired];

    public const string AuthenticationRequired = "authentication_required";

    /// <summary>How a 3-D Secure challenge ended: completed, failed by the shopper or their bank, left for another card, or never answered in time.</summary>
    public static readonly string[] AuthenticationOutcomes = ["succeeded", "failed", "abandoned", "expired"];

    /// <summary>The checkout's own error codes, as its API answers them.</summary>
    public static readonly string[] CheckoutErrorCodes =
        ["PAYMENT_DECLINED", "AUTHENTICATION_FAILED", "PAYMENT_GATEWAY_UNAVAILABLE", "CART_NOT_FOUND", "CART_CHECKED_OUT", "CART_EMPTY", "CHECKOUT_IN_PROGRESS", "CART_CHANGED", "TOO_MANY_DECLINES", "SESSION_EXPIRED", "INTERNAL_ERROR"];

    private static readonly double[] SecondsBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
    private static readonly double[] RedisBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    public CheckoutMetrics(IOptions<CheckoutSettings> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        Region = settings.Region;
        RedisCluster = settings.RedisMetricsCluster;
        var metrics = Metrics.WithCustomRegistry(Registry);

        CheckoutStarted = metrics.CreateCounter("checkout_started", "Checkouts started: a guest session (or a checkout without one), or a visitor sent to the legacy flow", "flow", "region");
        CheckoutCompleted = metrics.CreateCounter("checkout_completed", "Orders placed", "flow", "region");
        CheckoutErrors = metrics.CreateCounter("checkout_errors", "Checkouts that ended in an error (validation failures excluded)", "flow", "error_code");
        PaymentIntentErrors = metrics.CreateCounter("payment_intent_errors", "Failed attempts at the payment gateway", "checkout_type", "error_code");
        CheckoutCompletionDuration = metrics.CreateHistogram("checkout_completion_duration_seconds", "Time to place an order, from the checkout request to its answer",
            new HistogramConfiguration { LabelNames = ["flow"], Buckets = SecondsBuckets });
        PaymentGatewayDuration = metrics.CreateHistogram("payment_gateway_duration_seconds", "Time of each call to the payment gateway, retries included",
            new HistogramConfiguration { LabelNames = ["flow", "operation"], Buckets = SecondsBuckets });
        CheckoutsInFlight = metrics.CreateGauge("checkout_in_flight", "Checkouts running now (a drain waits for 0)");
        FlagEvaluations = metrics.CreateCounter("launchdarkly_flag_evaluation", "Feature flag evaluations by variation (the dashboard's name, kept from the LaunchDarkly days)", "flag", "variation");
        RedisCommandDuration = metrics.CreateHistogram("redis_command_duration_seconds", "Round trip of each Redis command the service sends",
            new HistogramConfiguration { LabelNames = ["cluster", "cmd"], Buckets = RedisBuckets });
        RedisCommands = metrics.CreateCounter("redis_commands_total", "Redis commands the service sent", "cluster", "cmd");
        RedisExpiredKeys = metrics.CreateCounter("redis_expired_keys_total", "Keys Redis expired (its INFO stats)", "cluster");
        RedisEvictedKeys = metrics.CreateCounter("redis_evicted_keys_total", "Keys Redis evicted under memory pressure (its INFO stats); sessions must never be", "cluster");
        RedisKeys = metrics.CreateGauge("redis_keys", "Keys by pattern: guest sessions live or awaiting their abandonment sweep", "pattern");
        OutboxPending = metrics.CreateGauge("outbox_pending_events", "Events in the outbox not yet acknowledged by the broker (parked ones excluded)");
        DeclineLimitRefusals = metrics.CreateCounter("checkout_decline_limit_refusals",
            "Checkouts refused with TOO_MANY_DECLINES (card testing), by the limit that refused them: cart, session or ip", "scope");
        OutboxLag = metrics.CreateGauge("outbox_lag_seconds", "Age of the oldest event not yet acknowledged by the broker");
        PaymentAuthentications = metrics.CreateCounter("payment_authentication_outcomes",
            "3-D Secure challenges by how they ended: succeeded, failed, abandoned for another card, or expired unanswered (then voided)", "outcome");
        WebhookEventsParked = metrics.CreateGauge("webhook_events_parked",
            "Stripe events no longer retried: no order matched them in 72 h or 25 attempts (the shared store's count, the same on every replica)");

        foreach (var flow in (string[])[GuestV2, Legacy])
        {
            CheckoutStarted.WithLabels(flow, Region);
            CheckoutCompleted.WithLabels(flow, Region);
            CheckoutCompletionDuration.WithLabels(flow);
            PaymentGatewayDuration.WithLabels(flow, "create_intent");
            PaymentGatewayDuration.WithLabels(flow, "confirm_intent");
            foreach (var code in CheckoutErrorCodes)
            {
                CheckoutErrors.WithLabels(flow, code);
            }
        }
        foreach (var code in PaymentErrorCodes)
        {
            PaymentIntentErrors.WithLabels(GuestCheckoutType, code);
        }
        foreach (var variation in (string[])["true", "false"])
        {
            FlagEvaluations.WithLabels("guest_checkout_v2", variation);
        }
        foreach (var cmd in RedisCommandNames)
        {
            RedisCommandDuration.WithLabels(RedisCluster, cmd);
            RedisCommands.WithLabels(RedisCluster, cmd);
        }
        RedisExpiredKeys.WithLabels(RedisCluster);
        RedisEvictedKeys.WithLabels(RedisCluster);
        RedisKeys.WithLabels(SessionKeyPattern);
        foreach (var outcome in AuthenticationOutcomes)
        {
            PaymentAuthentications.WithLabels(outcome);
        }
        foreach (var scope in (string[])["cart", "session", "ip"])
        {
            DeclineLimitRefusals.WithLabels(scope);
        }
    }

    public const string SessionKeyPattern = "guest:sess:*";

    /// <summary>The commands the service sends, as the dashboards name them (a compare-and-set write is a "set").</summary>
    public static readonly string[] RedisCommandNames = ["get", "set", "del", "zadd", "zrangebyscore", "zrem", "incr"];

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public string Region { get; }

    public string RedisCluster { get; }

    public Counter CheckoutStarted { get; }
    public Counter CheckoutCompleted { get; }
    public Counter CheckoutErrors { get; }
    public Counter PaymentIntentErrors { get; }
    public Histogram CheckoutCompletionDuration { get; }
    public Histogram PaymentGatewayDuration { get; }
    public Gauge CheckoutsInFlight { get; }
    public Counter FlagEvaluations { get; }
    public Histogram RedisCommandDuration { get; }
    public Counter RedisCommands { get; }
    public Counter RedisExpiredKeys { get; }
    public Counter RedisEvictedKeys { get; }
    public Gauge RedisKeys { get; }
    public Gauge OutboxPending { get; }
    public Gauge OutboxLag { get; }
    public Counter DeclineLimitRefusals { get; }
    public Gauge WebhookEventsParked { get; }
    public Counter PaymentAuthentications { get; }

    /// <summary>Times one Redis command and counts it.</summary>
    public async Task<T> RedisAsync<T>(string cmd, Func<Task<T>> command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            return await command();
        }
        finally
        {
            RedisCommandDuration.WithLabels(RedisCluster, cmd).Observe(TimeProvider.System.GetElapsedTime(started).TotalSeconds);
            RedisCommands.WithLabels(RedisCluster, cmd).Inc();
        }
    }
}
