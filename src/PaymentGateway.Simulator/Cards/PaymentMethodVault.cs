using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace PaymentGateway.Simulator;

/// <summary>A tokenized card: what Stripe shows of it, and what confirming it will do. The number itself is not kept.</summary>
public sealed record PaymentMethodRecord(
    string Id, string Brand, string Last4, int ExpMonth, int ExpYear, string PostalCode, CardOutcome Outcome, DateTimeOffset CreatedAt);

/// <summary>
/// Turns card details into <c>pm_…</c> ids, as <c>POST /v1/payment_methods</c> does: the card
/// data stays here, the shop's service only ever sees the id.
/// </summary>
public sealed class PaymentMethodVault(TimeProvider time)
{
    private const string IdAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private readonly ConcurrentDictionary<string, PaymentMethodRecord> _methods = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _byAge = new();

    /// <summary>Payment methods kept; the oldest go first, so a long load test cannot grow the vault without bound.</summary>
    public int MaxMethods { get; init; } = 100_000;

    /// <summary>The new payment method, or the field that is wrong.</summary>
    public (PaymentMethodRecord? Method, CardFieldError? Error) Tokenize(CardInput card)
    {
        var (valid, error) = CardRules.Check(card, time.GetUtcNow());
        if (valid is null)
        {
            return (null, error);
        }
        // Letters and digits only: a pm id can never end in one of the fault-injecting suffixes.
        var method = new PaymentMethodRecord(
            "pm_1" + RandomNumberGenerator.GetString(IdAlphabet, 23), valid.Brand, valid.Digits[^4..], valid.ExpMonth, valid.ExpYear,
            valid.PostalCode, TestCards.OfNumber(valid.Digits), time.GetUtcNow());
        _methods[method.Id] = method;
        _byAge.Enqueue(method.Id);
        while (_byAge.Count > MaxMethods && _byAge.TryDequeue(out var oldest))
        {
            _methods.TryRemove(oldest, out _);
        }
        return (method, null);
    }

    public PaymentMethodRecord? Find(string paymentMethodId) => _methods.GetValueOrDefault(paymentMethodId);
}
