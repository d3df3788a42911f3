using Microsoft.AspNetCore.DataProtection;
using CheckoutService.Edge;
using CheckoutService.Observability;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;

namespace CheckoutService.Flags;

/// <summary>The flag's answer for one visitor: in guest v2 or not, their bucket, and why.</summary>
public sealed record FlagDecision(bool Enabled, int Bucket, string Reason);

/// <summary>
/// <c>guest_checkout_v2</c> on this replica: the state operators last stored (read twice a second,
/// so a change or a kill reaches every replica within a second), or the settings' starting
/// targeting when nobody has changed it. Visitors are told apart by a first-party cookie set on
/// their first visit, so each stays in one arm. When the flag's store cannot be read the answer is
/// off, as the log's fallback says.
/// </summary>
public sealed partial class GuestCheckoutFlag(
    IFlagStore store, IOptions<CheckoutSettings> settings, IDataProtectionProvider dataProtection, ILogger<GuestCheckoutFlag> logger)
{
    /// <summary>
    /// The visitor cookie carries its id signed and encrypted with the replicas' shared Data Protection
    /// key ring: a client cannot choose its own id, and so cannot choose its bucket. One it did not get
    /// from us, or altered, is ignored, and the visitor is given a new one.
    /// </summary>
    private readonly IDataProtector _visitorIds = dataProtection.CreateProtector("checkout.visitor-id.v1");

    public const string VisitorCookie = "vantage_visitor";

    private volatile FlagState? _current;
    private volatile bool _unreachable;

    /// <summary>The state in force here: what operators stored, else the starting targeting.</summary>
    public FlagState Current => _current ?? Starting;

    /// <summary>True while the last read of the flag's store failed: every new decision is off.</summary>
    public bool Unreachable => _unreachable;

    /// <summary>The targeting the deployment starts with (<c>GUEST_CHECKOUT_V2_PERCENT</c>, <c>GUEST_CHECKOUT_V2_REGIONS</c>).</summary>
    public FlagState Starting => new(FlagState.GuestCheckoutV2, true, settings.Value.GuestCheckoutV2Percent,
        FlagState.ParseRegions(settings.Value.GuestCheckoutV2Regions), 0, DateTimeOffset.UnixEpoch, "settings");

    /// <summary>Reads the stored state; a failure turns the flag off here until a read succeeds again.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var stored = await store.GetAsync(FlagState.GuestCheckoutV2, cancellationToken);
            if (stored?.Version != _current?.Version)
            {
                LogApplied(logger, FlagState.GuestCheckoutV2, stored?.Enabled ?? true, stored?.Percent ?? Starting.Percent, stored?.Version ?? 0);
            }
            _current = stored;
            _unreachable = false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (!_unreachable)
            {
                LogUnreachable(logger, e.GetType().Name);
            }
            _unreachable = true;
        }
    }

    /// <summary>Decides for the request's visitor, giving a new visitor its cookie.</summary>
    public async Task<FlagDecision> DecideAsync(HttpContext context, IFeatureManager features, CheckoutMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(metrics);
        var visitor = VisitorOf(context);
        var state = Current;
        var enabled = await features.IsEnabledAsync(FlagState.GuestCheckoutV2, visitor);
        var reason = enabled ? "in_rollout"
            : Unreachable ? "flag_source_unreachable"
            : !state.Enabled ? "killed"
            : !state.ServesRegion(visitor.Region) ? "region_not_targeted"
            : "bucket_outside_rollout";
        metrics.FlagEvaluations.WithLabels(FlagState.GuestCheckoutV2, enabled ? "true" : "false").Inc();
        return new FlagDecision(enabled, visitor.Bucket, reason);
    }

    private Visitor VisitorOf(HttpContext context)
    {
        if (VisitorIdOf(context.Request.Cookies[VisitorCookie]) is not { } id)
        {
            id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            context.Response.Cookies.Append(VisitorCookie, _visitorIds.Protect(id), new CookieOptions
            {
                HttpOnly = true,
                Secure = context.Request.IsHttps,
                SameSite = SameSiteMode.Lax,
                MaxAge = TimeSpan.FromDays(365),
                IsEssential = true,
            });
        }
        var region = settings.Value.RegionHeader is { Length: > 0 } header
            && context.Request.Headers[header] is [{ Length: > 0 and <= 32 } fromEdge]
            && EdgeProtections.CameThroughTrustedProxy(context)
                ? fromEdge
                : settings.Value.Region;
        return new Visitor(id, Visitor.BucketOf(id, FlagState.GuestCheckoutV2), region);
    }

    /// <summary>The id a cookie we signed carries; null for no cookie, or one we did not sign.</summary>
    private string? VisitorIdOf(string? cookie)
    {
        if (cookie is not { Length: > 0 and <= 512 })
        {
            return null;
        }
        try
        {
            return _visitorIds.Unprotect(cookie) is { Length: 32 } id && id.All(char.IsAsciiHexDigitLower) ? id : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Flag {Flag} now enabled={Enabled} percent={Percent} (version {Version})")]
    private static partial void LogApplied(ILogger logger, string flag, bool enabled, int percent, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The flag store cannot be read ({Failure}): guest checkout v2 is off for new visitors until it can")]
    private static partial void LogUnreachable(ILogger logger, string failure);
}

/// <summary>Reads the flag's store every 250 ms, so a change reaches this replica well within a second.</summary>
internal sealed class FlagRefresher(GuestCheckoutFlag flag, TimeProvider time, ILogger<FlagRefresher> logger) : PeriodicWork(time, logger), IHostedService
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(250);

    /// <summary>The first read happens before the service takes traffic.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await flag.RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => flag.RefreshAsync(cancellationToken);
}
