using Stripe;

namespace CheckoutService.Webhooks;

/// <summary>
/// <c>Stripe-Signature</c> checked with Stripe.net's own <see cref="EventUtility.ValidateSignature(string, string, string, long, long)"/>:
/// HMAC-SHA256 of <c>"{t}.{raw body}"</c>, any of several <c>v1</c> values, compared in constant
/// time, with <c>t</c> within 300 s of now either way. During a rotation either of two secrets verifies.
/// </summary>
public sealed class StripeSignature(IReadOnlyList<string> secrets, TimeProvider time)
{
    public const long ToleranceSeconds = 300;

    public static IReadOnlyList<string> SecretsOf(string? setting) =>
        (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public bool IsValid(string payload, string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return false;
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var secret in secrets)
        {
            try
            {
                EventUtility.ValidateSignature(payload, header, secret, ToleranceSeconds, now);
                return true;
            }
            catch (Exception e) when (e is StripeException or FormatException or OverflowException or ArgumentException)
            {
                // Not this secret, or not a signature at all: try the next, then refuse.
            }
        }
        return false;
    }
}
