namespace CheckoutService;

/// <summary>
/// Background work repeated every <see cref="Interval"/> on the service's clock (so tests can move
/// it); a pass that fails is logged and the next one tries again.
/// </summary>
public abstract partial class PeriodicWork(TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The service's clock, for the work too.</summary>
    protected TimeProvider Time { get; } = time;

    protected abstract TimeSpan Interval { get; }

    /// <summary>One pass of the work.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, Time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPassFailed(logger, GetType().Name, e.GetType().Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A pass of {Work} failed ({Failure}); the next one retries")]
    private static partial void LogPassFailed(ILogger logger, string work, string failure);
}
