using CheckoutService.Observability;

namespace CheckoutService.Sessions;

/// <summary>How many guest sessions there are (the dashboard's "active sessions", <c>redis_keys{pattern="guest:sess:*"}</c>), every 15 s.</summary>
internal sealed class SessionGauge(SessionStore sessions, CheckoutMetrics metrics, TimeProvider time, ILogger<SessionGauge> logger) : PeriodicWork(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(15);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken) =>
        metrics.RedisKeys.WithLabels(CheckoutMetrics.SessionKeyPattern).Set(await sessions.CountAsync(cancellationToken));
}
