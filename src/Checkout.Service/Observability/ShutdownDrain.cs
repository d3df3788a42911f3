using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CheckoutService.Observability;

/// <summary>
/// A graceful stop. On SIGTERM this runs before any hosted service stops, the web server included
/// (<see cref="IHostedLifecycleService.StoppingAsync"/>): <c>/healthz</c> turns 503 "draining" at once,
/// so the load balancer stops sending shoppers here, while checkouts already running finish, for at
/// most <c>SHUTDOWN_DRAIN_SECONDS</c>. Only then does the server stop, and no payment is cut in half.
/// </summary>
public sealed partial class ShutdownDrain(CheckoutMetrics metrics, IOptions<CheckoutSettings> settings, ILogger<ShutdownDrain> logger)
    : IHostedLifecycleService, IHealthCheck
{
    private volatile bool _draining;

    public bool Draining => _draining;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        // Wall-clock time, not the service's clock: a stop must end even where tests have frozen that one.
        var time = TimeProvider.System;
        var window = TimeSpan.FromSeconds(settings.Value.ShutdownDrainSeconds);
        var started = time.GetTimestamp();
        LogDraining(logger, (int)metrics.CheckoutsInFlight.Value, window.TotalSeconds);
        while (metrics.CheckoutsInFlight.Value > 0 && time.GetElapsedTime(started) < window && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        var waited = time.GetElapsedTime(started);
        LogDrained(logger, (int)metrics.CheckoutsInFlight.Value, waited.TotalMilliseconds);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_draining ? HealthCheckResult.Unhealthy("draining for shutdown") : HealthCheckResult.Healthy());

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: not ready any more, waiting for {InFlight} checkouts for at most {Seconds} s")]
    private static partial void LogDraining(ILogger logger, int inFlight, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained: {InFlight} checkouts still running after {Milliseconds} ms")]
    private static partial void LogDrained(ILogger logger, int inFlight, double milliseconds);
}
