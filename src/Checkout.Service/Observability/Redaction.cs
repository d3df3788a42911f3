using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Compliance.Redaction;

namespace CheckoutService.Observability;

/// <summary>
/// What may never reach a log as it is. Log parameters carry one of these attributes and the
/// logging pipeline's redaction (Microsoft.Extensions.Compliance.Redaction) rewrites them at
/// every level, for our own logs and for the HTTP client's header logs alike.
/// </summary>
public static class CheckoutData
{
    public const string TaxonomyName = "checkout";

    /// <summary>Stripe client secrets: logged as <c>cs_***</c>: the kind of secret, never its value.</summary>
    public static DataClassification ClientSecret => new(TaxonomyName, nameof(ClientSecret));

    /// <summary>Session tokens, service tokens, webhook secrets: logged as <c>***</c>.</summary>
    public static DataClassification Secret => new(TaxonomyName, nameof(Secret));

    /// <summary>Shoppers' email addresses: logged as <c>u***@example.com</c>.</summary>
    public static DataClassification Email => new(TaxonomyName, nameof(Email));
}

[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ClientSecretAttribute() : DataClassificationAttribute(CheckoutData.ClientSecret);

[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SecretAttribute() : DataClassificationAttribute(CheckoutData.Secret);

[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field)]
public sealed class EmailAttribute() : DataClassificationAttribute(CheckoutData.Email);

/// <summary>Replaces the whole value with a fixed mask.</summary>
public class FixedMaskRedactor(string mask) : Redactor
{
    public override int GetRedactedLength(ReadOnlySpan<char> input) => mask.Length;

    public override int Redact(ReadOnlySpan<char> source, Span<char> destination)
    {
        mask.AsSpan().CopyTo(destination);
        return mask.Length;
    }
}

public sealed class ClientSecretRedactor() : FixedMaskRedactor("cs_***");

public sealed class SecretRedactor() : FixedMaskRedactor("***");

/// <summary>Keeps the first letter and the domain, so support can still tell addresses apart: <c>u***@example.com</c>.</summary>
public static class MaskedEmail
{
    public static string Of(ReadOnlySpan<char> email)
    {
        var at = email.LastIndexOf('@');
        return at <= 0 ? "***" : string.Concat(email[..1], "***", email[at..]);
    }
}

/// <summary>Emails in logs, masked as <see cref="MaskedEmail"/> does it.</summary>
public sealed class EmailRedactor : Redactor
{
    public override int GetRedactedLength(ReadOnlySpan<char> input) => MaskedEmail.Of(input).Length;

    public override int Redact(ReadOnlySpan<char> source, Span<char> destination)
    {
        var masked = MaskedEmail.Of(source);
        masked.CopyTo(destination);
        return masked.Length;
    }
}
