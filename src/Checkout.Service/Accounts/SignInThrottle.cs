using System.Net;
using CheckoutService.Edge;
using CheckoutService.RateLimits;

namespace CheckoutService.Accounts;

/// <summary>
/// Failed sign-ins, counted as NIST SP 800-63B §5.2.2 asks, so a stranger cannot lock the owner out:
/// a client address that keeps failing on an account is refused for a while, and the account's
/// failures from everywhere only slow its sign-ins down (a growing delay, never a lockout), so the
/// owner's right password from an address that has not failed still signs in. Counted in the
/// shared counters, by the email's canonical form, so every replica and every spelling agree.
/// </summary>
public sealed class SignInThrottle(IRateLimitCounters counters, TimeProvider time)
{
    /// <summary>Failures on one account from one client address before that address is refused.</summary>
    public const int FailuresPerAddress = 5;

    /// <summary>The account's failures from all addresses that cost nothing; each one more doubles the delay.</summary>
    public const int FreeFailuresPerAccount = 5;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);

    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(8);

    /// <summary>Null, or how long this address must wait before trying this account again.</summary>
    public async Task<TimeSpan?> RefusalAsync(string email, IPAddress? client, CancellationToken cancellationToken) =>
        await counters.CountAsync(AddressKey(email, client), cancellationToken) >= FailuresPerAddress ? Window : null;

    /// <summary>Waits as long as the account's recent failures ask, before its password is checked.</summary>
    public async Task SlowDownAsync(string email, CancellationToken cancellationToken)
    {
        var delay = DelayAfter(await counters.CountAsync(AccountKey(email), cancellationToken));
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    public Task FailedAsync(string email, IPAddress? client, CancellationToken cancellationToken) =>
        Task.WhenAll(
            counters.HitAsync(AccountKey(email), Window, cancellationToken),
            counters.HitAsync(AddressKey(email, client), Window, cancellationToken));

    /// <summary>Nothing for the first <see cref="FreeFailuresPerAccount"/>, then 250 ms doubling to at most 8 s.</summary>
    public static TimeSpan DelayAfter(long failures) =>
        failures <= FreeFailuresPerAccount ? TimeSpan.Zero
        : TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << (int)Math.Min(failures - FreeFailuresPerAccount - 1, 16)));

    private static string AccountKey(string email) => "sign-in-failures:" + Sha256.Hex(EmailAddress.Key(email));

    private static string AddressKey(string email, IPAddress? client) => AccountKey(email) + ":" + SharedRateLimiter.ClientKey(client);
}
