using System.Collections.Frozen;
using PaymentGateway.Contracts;

namespace PaymentGateway.Simulator;

/// <summary>What confirming an intent with a card does: succeed, decline with Stripe's error, or ask for 3-D Secure first.</summary>
public sealed record CardOutcome(GatewayError? Decline, bool RequiresAuthentication)
{
    public static readonly CardOutcome Succeeds = new(null, false);

    public static readonly CardOutcome Authenticates = new(null, true);

    public static CardOutcome Declines(string error, string message, string declineCode) => new(new GatewayError(error, message, declineCode), false);
}

/// <summary>
/// Stripe's published test cards and test PaymentMethod ids, with the outcomes Stripe documents
/// (docs.stripe.com/testing), so a test written against Stripe's docs means the same here.
/// </summary>
public static class TestCards
{
    public static readonly CardOutcome GenericDecline = CardOutcome.Declines("card_declined", "Your card was declined.", "generic_decline");
    public static readonly CardOutcome InsufficientFunds = CardOutcome.Declines("card_declined", "Your card has insufficient funds.", "insufficient_funds");
    public static readonly CardOutcome ExpiredCard = CardOutcome.Declines("expired_card", "Your card has expired.", "expired_card");
    public static readonly CardOutcome IncorrectCvc = CardOutcome.Declines("incorrect_cvc", "Your card's security code is incorrect.", "incorrect_cvc");

    /// <summary>The error an intent keeps when its shopper failed (or abandoned) the 3-D Secure challenge.</summary>
    public static readonly GatewayError AuthenticationFailed = new(
        "payment_intent_authentication_failure",
        "We are unable to authenticate your payment method. Please choose a different payment method and try again.");

    private static readonly FrozenDictionary<string, CardOutcome> ByNumber = new Dictionary<string, CardOutcome>
    {
        ["4000000000000002"] = GenericDecline,
        ["4000000000009995"] = InsufficientFunds,
        ["4000000000000069"] = ExpiredCard,
        ["4000000000000127"] = IncorrectCvc,
        ["4000002760003184"] = CardOutcome.Authenticates, // authentication required on every payment
        ["4000000000003220"] = CardOutcome.Authenticates, // 3-D Secure 2 required
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, CardOutcome> ByPaymentMethodId = new Dictionary<string, CardOutcome>
    {
        ["pm_card_chargeDeclined"] = GenericDecline,
        ["pm_card_chargeDeclinedInsufficientFunds"] = InsufficientFunds,
        ["pm_card_chargeDeclinedExpiredCard"] = ExpiredCard,
        ["pm_card_chargeDeclinedIncorrectCvc"] = IncorrectCvc,
        ["pm_card_authenticationRequired"] = CardOutcome.Authenticates,
        ["pm_card_threeDSecure2Required"] = CardOutcome.Authenticates,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The outcome of a Luhn-valid card number: every number Stripe does not list succeeds, 4242 4242 4242 4242 included.</summary>
    public static CardOutcome OfNumber(string digits) => ByNumber.GetValueOrDefault(digits, CardOutcome.Succeeds);

    /// <summary>Stripe's test PaymentMethod ids for API clients; null for any other id (<c>pm_card_visa</c> among them: it succeeds).</summary>
    public static CardOutcome? OfTestPaymentMethod(string paymentMethodId) => ByPaymentMethodId.GetValueOrDefault(paymentMethodId);
}
