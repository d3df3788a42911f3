using FluentValidation;
using MimeKit;

namespace CheckoutService.Edge;

public static class FieldCodes
{
    public const string Required = "REQUIRED";
    public const string InvalidFormat = "INVALID_FORMAT";
    public const string InvalidValue = "INVALID_VALUE";
    public const string InvalidType = "INVALID_TYPE";
    public const string TooShort = "TOO_SHORT";
    public const string TooLong = "TOO_LONG";
    public const string OutOfRange = "OUT_OF_RANGE";
    public const string UnsupportedCountry = "UNSUPPORTED_COUNTRY";
    public const string UnknownSku = "UNKNOWN_SKU";
    public const string PasswordTooWeak = "PASSWORD_TOO_WEAK";
}

/// <summary>The field rules every request shares, each with the API's code, message and constraint.</summary>
public static class FieldRules
{
    public const int MaxEmailLength = 254;

    private static readonly ParserOptions StrictAddressParser = new()
    {
        AddressParserComplianceMode = RfcComplianceMode.Strict,
        AllowAddressesWithoutDomain = false,
        AllowUnquotedCommasInAddresses = false,
    };

    /// <summary>Sets the code, message and constraint of the rule before it; the constraint rides in the custom state.</summary>
    public static IRuleBuilderOptions<T, TProperty> Fails<T, TProperty>(this IRuleBuilderOptions<T, TProperty> rule, string code, string message, string constraint) =>
        rule.WithErrorCode(code).WithMessage(message).WithState(_ => constraint);

    public static IRuleBuilderOptions<T, string?> Required<T>(this IRuleBuilder<T, string?> rule, string label) =>
        rule.NotEmpty().Fails(FieldCodes.Required, $"{label} is required", "Non-empty string");

    /// <summary>Free text: bounded, and no control characters (they have no place in an address and forge log lines).</summary>
    public static IRuleBuilderOptions<T, string?> Text<T>(this IRuleBuilder<T, string?> rule, int maxLength, string label) =>
        rule.MaximumLength(maxLength).Fails(FieldCodes.TooLong, $"{label} is too long", $"At most {maxLength} characters")
            .Must(s => s is null || !s.Any(char.IsControl)).Fails(FieldCodes.InvalidFormat, $"{label} contains control characters", "Printable text");

    public static IRuleBuilderOptions<T, string?> Email<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Required("Email address")
            .MaximumLength(MaxEmailLength).Fails(FieldCodes.TooLong, "Email address is too long", $"At most {MaxEmailLength} characters")
            .Must(IsEmail).Fails(FieldCodes.InvalidFormat, "Email address is not valid", "RFC 5322 compliant email required");

    public static IRuleBuilderOptions<T, string?> CartId<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Required("Cart id")
            .MaximumLength(64).Fails(FieldCodes.TooLong, "Cart id is too long", "At most 64 characters")
            .Matches("^cart_[A-Za-z0-9_-]+$").Fails(FieldCodes.InvalidFormat, "Cart id is not valid", "cart_ followed by letters, digits, _ or -");

    public static IRuleBuilderOptions<T, string?> PaymentMethodId<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(255).Fails(FieldCodes.TooLong, "Payment method id is too long", "At most 255 characters")
            .Matches("^pm_[A-Za-z0-9_]+$").Fails(FieldCodes.InvalidFormat, "Payment method id is not valid", "pm_ followed by letters, digits or _");

    /// <summary>
    /// A bare RFC 5322 addr-spec (no display name, no group), as MimeKit's strict parser reads it,
    /// with a dotted domain a shop can deliver mail to.
    /// </summary>
    public static bool IsEmail(string? value) =>
        value is { Length: > 0 and <= MaxEmailLength }
        && MailboxAddress.TryParse(StrictAddressParser, value, out var mailbox)
        && string.IsNullOrEmpty(mailbox.Name)
        && string.Equals(mailbox.Address, value, StringComparison.Ordinal)
        && mailbox.Domain.Contains('.', StringComparison.Ordinal)
        && !mailbox.Domain.StartsWith('[')
        && !mailbox.Domain.EndsWith('.');
}
