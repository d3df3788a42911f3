using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using CheckoutService.Edge;
using CheckoutService.Storage;

namespace CheckoutService.Idempotency;

/// <summary>Marks an endpoint whose POSTs honour <c>Idempotency-Key</c>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IdempotentAttribute : Attribute;

/// <summary>
/// <c>Idempotency-Key</c> as Stripe and the IETF draft define it: the same key and body replay the
/// first response (<c>Idempotent-Replayed: true</c>); the same key with another body is 422
/// <c>IDEMPOTENCY_KEY_REUSED</c>; the same key while the first request runs is 409
/// <c>IDEMPOTENCY_KEY_IN_USE</c>. Records live 24 h in the shared store, so this holds across
/// replicas. 5xx answers are not kept, so a retry after a gateway failure runs again; nor are
/// 409 and 429, which say "not now" rather than "no"; nor anything a middleware answered before
/// the endpoint ran.
/// <para>
/// Two halves around the rate limiter: this one claims the key while the limiter counts the request
/// (one round trip for both), and <see cref="IdempotencyGate"/>, after it, lets the request through
/// only if the claim won. A refused request gives its claim back.
/// </para>
/// </summary>
public sealed partial class IdempotencyMiddleware(
    RequestDelegate next, IExpiringTables tables, IDataProtectionProvider dataProtection, TimeProvider time, ILogger<IdempotencyMiddleware> logger)
{
    public const string Header = "Idempotency-Key";
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>How long a running request holds its key: past any checkout's deadline, so a crashed replica's lock lapses.</summary>
    public static readonly TimeSpan RunningLock = TimeSpan.FromMinutes(2);

    private readonly IExpiringTable<IdempotencyRecord> _records = tables.Open("idem:", IdempotencyJson.Default.IdempotencyRecord);

    private readonly IDataProtector _replays = ReplayProtector(dataProtection);

    /// <summary>
    /// The response kept for replay holds a bearer secret (a checkout's confirmation token), so it is
    /// kept encrypted with ASP.NET Core Data Protection, whose key ring the replicas share (in Redis
    /// when there is one): the shared store never holds the token in clear.
    /// </summary>
    internal static IDataProtector ReplayProtector(IDataProtectionProvider provider) => provider.CreateProtector("checkout.idempotency-replay.v1");

    public async Task InvokeAsync(HttpContext context)
    {
        var key = context.Request.Headers[Header];
        if (key.Count == 0 || context.GetEndpoint()?.Metadata.GetMetadata<IdempotentAttribute>() is null)
        {
            await next(context);
            return;
        }
        if (key.Count > 1 || key[0] is not { Length: > 0 and <= 255 } value || value.Any(char.IsControl))
        {
            await ApiError.Of(Errors.InvalidIdempotencyKey).ExecuteAsync(context);
            return;
        }

        var recordKey = Sha256.Hex($"{Scope(context.Request.Path)}\n{value}");
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(BufferedBody.Of(context).Span));
        var running = new IdempotencyRecord(fingerprint, Guid.NewGuid().ToString("N"), false);
        var runningUntil = time.GetUtcNow() + RunningLock;
        // A key seen for the first time is the common case: guessing it absent claims it in one round trip.
        var claim = new IdempotencyClaim(_records.ChangeAsync(recordKey, entry => entry is null
            ? Decision<IdempotencyRecord?, IdempotencyRecord>.Write(null, running, runningUntil)
            : Decision<IdempotencyRecord?, IdempotencyRecord>.Keep(entry.Value), context.RequestAborted, Seen<IdempotencyRecord>.Absent), fingerprint);
        var held = new Seen<IdempotencyRecord>(new Entry<IdempotencyRecord>(running, runningUntil));
        context.Features.Set(claim);

        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        var kept = false;
        try
        {
            await next(context);
            kept = claim.ReachedEndpoint && IsFinal(context.Response.StatusCode) && !context.Items.ContainsKey(KeptOpen);
            if (kept)
            {
                var completed = running with
                {
                    Completed = true,
                    StatusCode = context.Response.StatusCode,
                    ContentType = context.Response.ContentType,
                    Location = context.Response.Headers.Location,
                    Body = _replays.Protect(buffer.ToArray()),
                };
                await RecordAsync(recordKey, held, entry => entry?.Value.Owner == running.Owner
                    ? Decision<bool, IdempotencyRecord>.Write(true, completed, time.GetUtcNow() + Retention)
                    : Decision<bool, IdempotencyRecord>.Keep(false));
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!kept && await claim.WonAsync())
            {
                // Not a final answer (or an exception, or a refusal before the endpoint): free the key so the client's retry runs again.
                if (!await RecordAsync(recordKey, held, Release(running.Owner)))
                {
                    // The store is down (a failover): the shopper's answer does not wait for it, and the key is
                    // given back once it returns, so the retry the answer invites is not told the key is in use.
                    _ = ReleaseLaterAsync(recordKey, held, running.Owner);
                }
            }
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>
    /// Writes the record after the endpoint answered. The answer stands even if the store fails now
    /// (a paid order is not turned into a 503); a retry then runs again, and the cart's claim and the
    /// order table keep it from charging twice. A held key lapses after <see cref="RunningLock"/>.
    /// </summary>
    private async Task<bool> RecordAsync(string recordKey, Seen<IdempotencyRecord> held, Func<Entry<IdempotencyRecord>?, Decision<bool, IdempotencyRecord>> decide)
    {
        try
        {
            await _records.ChangeAsync(recordKey, decide, CancellationToken.None, held);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRecordNotSaved(logger, e.GetType().Name);
            return false;
        }
    }

    private static Func<Entry<IdempotencyRecord>?, Decision<bool, IdempotencyRecord>> Release(string owner) =>
        entry => entry?.Value.Owner == owner ? Decision<bool, IdempotencyRecord>.Remove(true) : Decision<bool, IdempotencyRecord>.Keep(false);

    /// <summary>Gives a held key back after 1, 2, 4 and 8 s, until the store takes it; past that the key lapses by itself.</summary>
    private async Task ReleaseLaterAsync(string recordKey, Seen<IdempotencyRecord> held, string owner)
    {
        for (var wait = TimeSpan.FromSeconds(1); wait <= TimeSpan.FromSeconds(8); wait *= 2)
        {
            await Task.Delay(wait, time, CancellationToken.None);
            if (await RecordAsync(recordKey, held, Release(owner)))
            {
                return;
            }
        }
    }

    /// <summary>The key's scope: the path as routing matches it, so <c>/Checkout/Guest/</c> is <c>/checkout/guest</c>.</summary>
    private static string Scope(PathString path) => (path.Value ?? "").TrimEnd('/').ToLowerInvariant();

    private static readonly object KeptOpen = new();

    /// <summary>
    /// The endpoint's answer is a step, not an outcome (402 <c>AUTHENTICATION_REQUIRED</c>): the key is
    /// given back, so the same request with it, sent after that step, runs again and finishes.
    /// </summary>
    public static void KeepKeyOpen(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[KeptOpen] = true;
    }

    private static bool IsFinal(int statusCode) => statusCode < 500 && statusCode is not (409 or 429);

    internal static Task AnswerFromRecordAsync(HttpContext context, IdempotencyRecord record, string fingerprint)
    {
        if (record.Fingerprint != fingerprint)
        {
            return ApiError.Of(Errors.IdempotencyKeyReused).ExecuteAsync(context);
        }
        if (!record.Completed)
        {
            return ApiError.Of(Errors.IdempotencyKeyInUse).ExecuteAsync(context);
        }
        context.Response.StatusCode = record.StatusCode;
        context.Response.ContentType = record.ContentType;
        if (record.Location is not null)
        {
            context.Response.Headers.Location = record.Location;
        }
        context.Response.Headers["Idempotent-Replayed"] = "true";
        var body = record.Body is { Length: > 0 } sealedBody
            ? ReplayProtector(context.RequestServices.GetRequiredService<IDataProtectionProvider>()).Unprotect(sealedBody)
            : [];
        return context.Response.Body.WriteAsync(body).AsTask();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency record not saved: {Failure}; the answer was sent anyway")]
    private static partial void LogRecordNotSaved(ILogger logger, string failure);
}

/// <summary>A request's claim on its <c>Idempotency-Key</c>: started before the rate limiter, settled by <see cref="IdempotencyGate"/>.</summary>
internal sealed class IdempotencyClaim(Task<IdempotencyRecord?> claiming, string fingerprint)
{
    /// <summary>Null when this request now holds the key; otherwise the record that already held it.</summary>
    public Task<IdempotencyRecord?> Claiming => claiming;

    public string Fingerprint => fingerprint;

    /// <summary>The gate let the request through to its endpoint, whose answer is the one to keep.</summary>
    public bool ReachedEndpoint { get; set; }

    /// <summary>Whether this request holds the key; a claim that failed in the store holds nothing to give back.</summary>
    public async Task<bool> WonAsync()
    {
        try
        {
            return await claiming is null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>
/// The second half of <see cref="IdempotencyMiddleware"/>, after the rate limiter: a request whose
/// claim lost is answered from the record that holds the key, and never reaches its endpoint.
/// </summary>
public sealed class IdempotencyGate(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<IdempotencyClaim>() is { } claim)
        {
            if (await claim.Claiming is { } existing)
            {
                await IdempotencyMiddleware.AnswerFromRecordAsync(context, existing, claim.Fingerprint);
                return;
            }
            claim.ReachedEndpoint = true;
        }
        await next(context);
    }
}
