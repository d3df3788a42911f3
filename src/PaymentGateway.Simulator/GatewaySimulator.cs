using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using PaymentGateway.Contracts;

namespace PaymentGateway.Simulator;

/// <summary>
/// The state behind the simulated svc-payment-gateway: intents by idempotency key, charges per
/// cart, and deterministic faults chosen by the payment method id:
/// <c>pm_..._declined</c> is refused at confirm, <c>pm_..._flaky</c> fails the first create
/// attempt for each idempotency key (as during a Stripe maintenance window),
/// <c>pm_..._timeout</c> creates the intent on the first attempt but never answers it (the
/// caller must find out what happened), <c>pm_..._down</c> fails every call. Cards tokenized by
/// <see cref="PaymentMethods"/> and Stripe's test PaymentMethod ids behave as <see cref="TestCards"/>
/// says, 3-D Secure included: such an intent waits in <c>requires_action</c> until its challenge
/// is completed (charged once) or failed.
/// </summary>
public sealed class GatewaySimulator(TimeProvider time, WebhookSender? webhooks = null, OriginAllowList? returnOrigins = null)
{
    /// <summary>Intents kept for look-ups and the ledger; the oldest go first, so a long load test cannot grow it without bound.</summary>
    public int MaxIntents { get; init; } = 100_000;

    /// <summary>Calls kept in the call log, newest last.</summary>
    public int MaxCalls { get; init; } = 10_000;

    private readonly ConcurrentDictionary<string, IntentRecord> _intents = new(StringComparer.Ordinal);
    private readonly Queue<string> _intentsByAge = new();
    private readonly Dictionary<string, List<string>> _keysByIntent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _intentByKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _flakyKeysSeen = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly OriginAllowList _returnOrigins = returnOrigins ?? OriginAllowList.From(new SimulatorOptions());

    /// <summary>Client secrets are keyed per process, so no one derives an intent's secret from its id.</summary>
    private readonly byte[] _secretKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>Cards tokenized through Stripe.js or the hosted card page.</summary>
    public PaymentMethodVault PaymentMethods { get; } = new(time);

    /// <summary>Added to every intent call before it is answered.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>While true every create and confirm answers 502, whatever the card: Stripe in maintenance.</summary>
    public bool InOutage { get; set; }

    /// <summary>While true intents are created but every confirm answers 502.</summary>
    public bool ConfirmsFail { get; set; }

    /// <summary>While true every void answers 502: a charge can be left without its order.</summary>
    public bool VoidsFail { get; set; }

    public abstract record Outcome;
    public sealed record Created(IntentRecord Intent, string ClientSecret) : Outcome;
    public sealed record Confirmed(IntentRecord Intent) : Outcome;
    public sealed record Failed(int StatusCode, GatewayError Error) : Outcome;
    /// <summary>Done, but the answer is lost: the HTTP layer holds the call until the caller gives up.</summary>
    public sealed record Hang : Outcome;

    /// <summary>One call as it arrived, for tests to count attempts and measure backoff.</summary>
    public sealed record GatewayCall(string Path, string IdempotencyKey, int RetryAttempt, string? TraceParent, DateTimeOffset At);

    private readonly ConcurrentQueue<GatewayCall> _calls = new();
    private readonly ConcurrentDictionary<TaskCompletionSource<GatewayCall>, Func<GatewayCall, bool>> _waiters = new();

    public IReadOnlyList<GatewayCall> Calls => [.. _calls];

    public void Record(string path, string idempotencyKey, int retryAttempt, string? traceParent)
    {
        var call = new GatewayCall(path, idempotencyKey, retryAttempt, traceParent, time.GetUtcNow());
        _calls.Enqueue(call);
        while (_calls.Count > MaxCalls && _calls.TryDequeue(out _))
        {
        }
        foreach (var (waiter, matches) in _waiters)
        {
            if (matches(call) && _waiters.TryRemove(waiter, out _))
            {
                waiter.TrySetResult(call);
            }
        }
    }

    /// <summary>The first call, already made or still to come, that <paramref name="matches"/>: lets a test wait for the gateway to be reached.</summary>
    public Task<GatewayCall> WaitForCallAsync(Func<GatewayCall, bool> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        var waiter = new TaskCompletionSource<GatewayCall>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters[waiter] = matches;
        if (_calls.FirstOrDefault(matches) is { } made && _waiters.TryRemove(waiter, out _))
        {
            waiter.TrySetResult(made);
        }
        return waiter.Task;
    }

    public static Failed Unavailable() =>
        new(502, new GatewayError("UPSTREAM_UNAVAILABLE", "Stripe API is temporarily unavailable"));

    public Outcome CreateIntent(CreateIntentRequest request, string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (IsDown(request.PaymentMethodId) is { } down)
        {
            return down;
        }
        if (request.PaymentMethodId.EndsWith("_flaky", StringComparison.Ordinal) && _flakyKeysSeen.TryAdd(idempotencyKey, true))
        {
            return new Failed(502, new GatewayError("UPSTREAM_TIMEOUT", "Stripe API did not respond in time"));
        }
        var loseTheAnswer = request.PaymentMethodId.EndsWith("_timeout", StringComparison.Ordinal) && _flakyKeysSeen.TryAdd(idempotencyKey, true);
        lock (_gate)
        {
            if (_intentByKey.TryGetValue(idempotencyKey, out var existingId))
            {
                var existing = _intents[existingId];
                return new Created(existing, ClientSecretOf(existing.IntentId));
            }
            var intent = new IntentRecord(
                "pi_sim_" + RandomNumberGenerator.GetHexString(16, lowercase: true),
                idempotencyKey,
                request.Metadata.CartId,
                request.Amount,
                request.Currency,
                request.PaymentMethodId,
                IntentStatus.RequiresConfirmation,
                ChargeId: null,
                time.GetUtcNow(),
                request.Metadata);
            _intents[intent.IntentId] = intent;
            _intentByKey[idempotencyKey] = intent.IntentId;
            ForgetOldest(intent.IntentId);
            return loseTheAnswer ? new Hang() : new Created(intent, ClientSecretOf(intent.IntentId));
        }
    }

    public Outcome ConfirmIntent(ConfirmIntentRequest request, string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            if (!_intents.TryGetValue(request.IntentId, out var intent))
            {
                return new Failed(404, new GatewayError("INTENT_NOT_FOUND", $"No such payment intent: {request.IntentId}"));
            }
            if (idempotencyKey.Length > 0 && _intentByKey.TryAdd(idempotencyKey, intent.IntentId))
            {
                _keysByIntent[intent.IntentId].Add(idempotencyKey); // the look-up answers for confirm keys too
            }
            if (IsDown(intent.PaymentMethodId) is { } down)
            {
                return down;
            }
            if (ConfirmsFail)
            {
                return Unavailable();
            }
            switch (intent.Status)
            {
                case IntentStatus.Succeeded:
                    return new Confirmed(intent); // confirming twice never charges twice
                case IntentStatus.RequiresAction:
                    return new Confirmed(intent); // the same challenge is still open; nothing is charged until it is completed
                case IntentStatus.Canceled or IntentStatus.Refunded:
                    return new Failed(409, new GatewayError("INTENT_CANCELED", "This payment intent was canceled"));
                case IntentStatus.RequiresPaymentMethod when intent.LastPaymentError is { } refused:
                    return new Failed(402, refused); // the card was refused or not authenticated: another card takes a new intent
            }
            var outcome = OutcomeOf(intent.PaymentMethodId);
            if (outcome.Decline is { } decline)
            {
                _intents[intent.IntentId] = intent with { Status = IntentStatus.RequiresPaymentMethod, LastPaymentError = decline };
                return new Failed(402, decline);
            }
            if (outcome.RequiresAuthentication)
            {
                if (!_returnOrigins.Allows(request.ReturnUrl))
                {
                    return new Failed(400, new GatewayError("INVALID_REQUEST", "return_url must be an absolute URL on an allowed origin"));
                }
                var challenged = intent with { Status = IntentStatus.RequiresAction, ReturnUrl = request.ReturnUrl };
                _intents[intent.IntentId] = challenged;
                return new Confirmed(challenged);
            }
            return new Confirmed(Charge(intent));
        }
    }

    /// <summary>
    /// The shopper's answer to the 3-D Secure challenge: the intent is charged (once, however often
    /// the page is submitted) or left needing another payment method. Null when there is no such
    /// intent or the client secret is not its own.
    /// </summary>
    public IntentRecord? CompleteAuthentication(string intentId, string clientSecret, bool authenticated)
    {
        lock (_gate)
        {
            if (FindIntent(intentId, clientSecret) is not { } intent)
            {
                return null;
            }
            if (intent.Status != IntentStatus.RequiresAction)
            {
                return intent; // answered already: a second submit changes nothing
            }
            if (authenticated)
            {
                return Charge(intent);
            }
            var failed = intent with { Status = IntentStatus.RequiresPaymentMethod, LastPaymentError = TestCards.AuthenticationFailed };
            _intents[intentId] = failed;
            webhooks?.IntentPaymentFailed(failed);
            return failed;
        }
    }

    /// <summary>An intent, for whoever holds its client secret (the browser side).</summary>
    public IntentRecord? FindIntent(string intentId, string clientSecret) =>
        _intents.TryGetValue(intentId, out var intent)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(clientSecret), Encoding.UTF8.GetBytes(ClientSecretOf(intentId)))
            ? intent
            : null;

    /// <summary>Called under the gate.</summary>
    private IntentRecord Charge(IntentRecord intent)
    {
        var charged = intent with
        {
            Status = IntentStatus.Succeeded,
            ChargeId = "ch_sim_" + RandomNumberGenerator.GetHexString(16, lowercase: true),
        };
        _intents[intent.IntentId] = charged;
        webhooks?.IntentSucceeded(charged);
        return charged;
    }

    /// <summary>What confirming with this payment method does: a tokenized card's, a Stripe test id's, or the fault-injecting suffix's outcome.</summary>
    private CardOutcome OutcomeOf(string paymentMethodId) =>
        PaymentMethods.Find(paymentMethodId)?.Outcome
        ?? TestCards.OfTestPaymentMethod(paymentMethodId)
        ?? (paymentMethodId.EndsWith("_declined", StringComparison.Ordinal) ? TestCards.GenericDecline : CardOutcome.Succeeds);

    /// <summary>What happened under an idempotency key: how a client resolves an outcome it did not see.</summary>
    public IntentRecord? FindByIdempotencyKey(string idempotencyKey) =>
        _intentByKey.TryGetValue(idempotencyKey, out var id) ? _intents[id] : null;

    /// <summary>Cancels an unpaid intent or refunds a paid one.</summary>
    public IntentRecord? Void(string intentId)
    {
        lock (_gate)
        {
            if (!_intents.TryGetValue(intentId, out var intent))
            {
                return null;
            }
            var voided = intent with
            {
                Status = intent.Status == IntentStatus.Succeeded ? IntentStatus.Refunded : IntentStatus.Canceled,
            };
            _intents[intentId] = voided;
            webhooks?.IntentVoided(voided);
            return voided;
        }
    }

    public LedgerResponse Ledger(string cartId)
    {
        var intents = _intents.Values.Where(i => i.CartId == cartId).OrderBy(i => i.CreatedAt).ToList();
        return new LedgerResponse(cartId, intents, intents.Count(i => i.ChargeId is not null));
    }

    /// <summary>Keeps the ledger under <see cref="MaxIntents"/>; called under the gate.</summary>
    private void ForgetOldest(string newIntentId)
    {
        _intentsByAge.Enqueue(newIntentId);
        _keysByIntent[newIntentId] = [_intents[newIntentId].IdempotencyKey];
        while (_intentsByAge.Count > MaxIntents && _intentsByAge.TryDequeue(out var oldest))
        {
            _intents.TryRemove(oldest, out _);
            if (_keysByIntent.Remove(oldest, out var keys))
            {
                foreach (var key in keys)
                {
                    _intentByKey.TryRemove(key, out _);
                    _flakyKeysSeen.TryRemove(key, out _);
                }
            }
        }
        if (_flakyKeysSeen.Count > MaxIntents)
        {
            _flakyKeysSeen.Clear(); // keys whose retry never came; forgetting one only makes its next attempt fail once more
        }
    }

    private Failed? IsDown(string paymentMethodId) =>
        InOutage || paymentMethodId.EndsWith("_down", StringComparison.Ordinal) ? Unavailable() : null;

    /// <summary>The same secret for every answer about one intent, as Stripe's is.</summary>
    public string ClientSecretOf(string intentId) =>
        $"{intentId}_secret_{Convert.ToHexStringLower(HMACSHA256.HashData(_secretKey, Encoding.UTF8.GetBytes(intentId)))[..24]}";
}
