using CheckoutService.Storage;

namespace CheckoutService.Accounts;

/// <summary>
/// Deletes accounts that never proved their email within <see cref="AccountStore.PendingLifetime"/>,
/// on one replica at a time, so an unproven claim on an email does not linger (docs/decisions/0016).
/// </summary>
public sealed partial class PendingAccountSweep(AccountStore accounts, Database database, TimeProvider time, ILogger<PendingAccountSweep> logger)
    : PeriodicWork(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromHours(1);

    private const long LockId = 4605;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepOnceAsync(cancellationToken);

    /// <summary>One pass; false when another replica is sweeping now.</summary>
    public Task<bool> SweepOnceAsync(CancellationToken cancellationToken) =>
        database.RunAloneAsync(LockId, async () =>
        {
            if (await accounts.DeleteExpiredPendingAsync(Time.GetUtcNow(), cancellationToken) is var deleted and > 0)
            {
                LogDeleted(logger, deleted);
            }
        }, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} accounts that never proved their email")]
    private static partial void LogDeleted(ILogger logger, int count);
}
