using System.Globalization;
using System.Text.RegularExpressions;

namespace PaymentGateway.Simulator;

/// <summary>A card network: the number prefix that names it, the lengths its numbers have, its CVC's length.</summary>
public sealed record CardBrand(string Name, string Prefix, IReadOnlyList<int> Lengths, int CvcLength)
{
    internal Regex PrefixRegex { get; } = new(Prefix, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
}

/// <summary>Why a card field is refused, with Stripe's code and message; <see cref="Field"/> is the input it belongs to.</summary>
public sealed record CardFieldError(string Code, string Message, string Field);

/// <summary>A card as the shopper typed it: expiry month and year as given (year of two or four digits).</summary>
public sealed record CardInput(string? Number, string? ExpMonth, string? ExpYear, string? Cvc, string? PostalCode)
{
    /// <summary>
    /// A card whose expiry was typed as one field, as the card forms ask for it: <c>MM / YY</c>, or
    /// <c>MMYY</c> from a shopper without the script that inserts the slash.
    /// </summary>
    public static CardInput WithExpiry(string? number, string? expiry, string? cvc, string? postalCode)
    {
        var typed = (expiry ?? "").Replace(" ", "", StringComparison.Ordinal);
        var parts = typed.Contains('/', StringComparison.Ordinal) ? typed.Split('/', 2)
            : typed.Length is 4 or 6 ? [typed[..2], typed[2..]]
            : [typed, ""];
        return new CardInput(number, parts[0], parts[1], cvc, postalCode);
    }
}

/// <summary>A card that passed every check; only the brand, the last four digits and the expiry outlive tokenization.</summary>
public sealed record CheckedCard(string Digits, string Brand, int ExpMonth, int ExpYear, string PostalCode);

/// <summary>
/// The card field's checks, the one definition for the tokenization API, the hosted page and
/// (served to it as data) the card iframe's script: brand by prefix, length, Luhn, an expiry
/// not in the past, a CVC of the brand's length, a postal code.
/// </summary>
public static class CardRules
{
    public static readonly IReadOnlyList<CardBrand> Brands =
    [
        new("amex", "^3[47]", [15], 4),
        new("diners", "^3(0[0-5]|[689])", [14, 16], 3),
        new("jcb", "^35", [16], 3),
        new("visa", "^4", [13, 16, 19], 3),
        new("mastercard", "^(5[1-5]|2[2-7])", [16], 3),
        new("discover", "^(6011|64[4-9]|65)", [16, 19], 3),
        new("unionpay", "^62", [16, 17, 18, 19], 3),
    ];

    private static readonly CardBrand Unknown = new("unknown", "", [12, 13, 14, 15, 16, 17, 18, 19], 3);

    public static readonly CardFieldError IncompleteNumber = new("incomplete_number", "Your card number is incomplete.", "number");
    public static readonly CardFieldError InvalidNumber = new("invalid_number", "Your card number is invalid.", "number");
    public static readonly CardFieldError IncompleteExpiry = new("incomplete_expiry", "Your card's expiration date is incomplete.", "expiry");
    public static readonly CardFieldError InvalidExpiryMonth = new("invalid_expiry_month", "Your card's expiration month is invalid.", "expiry");
    public static readonly CardFieldError InvalidExpiryYear = new("invalid_expiry_year", "Your card's expiration year is invalid.", "expiry");
    public static readonly CardFieldError ExpiryInPast = new("invalid_expiry_year_past", "Your card's expiration date is in the past.", "expiry");
    public static readonly CardFieldError IncompleteCvc = new("incomplete_cvc", "Your card's security code is incomplete.", "cvc");
    public static readonly CardFieldError IncompleteZip = new("incomplete_zip", "Your postal code is incomplete.", "postal_code");

    public static IReadOnlyList<CardFieldError> Errors { get; } =
        [IncompleteNumber, InvalidNumber, IncompleteExpiry, InvalidExpiryMonth, InvalidExpiryYear, ExpiryInPast, IncompleteCvc, IncompleteZip];

    /// <summary>Cards further out than this are typos, as Stripe's field treats them.</summary>
    private const int MaxYearsAhead = 50;

    public static CardBrand BrandOf(string digits) => Brands.FirstOrDefault(b => b.PrefixRegex.IsMatch(digits)) ?? Unknown;

    public static bool PassesLuhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            sum += i % 2 == 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d;
        }
        return digits.Length > 0 && sum % 10 == 0;
    }

    /// <summary>The card, or the first field that is wrong (in the order the shopper fills them).</summary>
    public static (CheckedCard? Card, CardFieldError? Error) Check(CardInput card, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(card);
        var digits = (card.Number ?? "").Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (!digits.All(char.IsAsciiDigit))
        {
            return (null, InvalidNumber);
        }
        var brand = BrandOf(digits);
        if (digits.Length < brand.Lengths[0])
        {
            return (null, IncompleteNumber);
        }
        if (!brand.Lengths.Contains(digits.Length) || !PassesLuhn(digits))
        {
            return (null, InvalidNumber);
        }
        if (ExpiryError(card.ExpMonth, card.ExpYear, now, out var month, out var year) is { } expiryError)
        {
            return (null, expiryError);
        }
        if (card.Cvc is not { } cvc || cvc.Length != brand.CvcLength || !cvc.All(char.IsAsciiDigit))
        {
            return (null, IncompleteCvc);
        }
        var postalCode = (card.PostalCode ?? "").Trim();
        if (postalCode.Length is < 3 or > 10 || !postalCode.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '-'))
        {
            return (null, IncompleteZip);
        }
        return (new CheckedCard(digits, brand.Name, month, year, postalCode), null);
    }

    private static CardFieldError? ExpiryError(string? monthText, string? yearText, DateTimeOffset now, out int month, out int year)
    {
        month = year = 0;
        if (string.IsNullOrWhiteSpace(monthText) || yearText is not { Length: 2 or 4 }
            || !int.TryParse(monthText, NumberStyles.None, CultureInfo.InvariantCulture, out month)
            || !int.TryParse(yearText, NumberStyles.None, CultureInfo.InvariantCulture, out year))
        {
            return IncompleteExpiry;
        }
        if (month is < 1 or > 12)
        {
            return InvalidExpiryMonth;
        }
        year += yearText.Length == 2 ? now.Year / 100 * 100 : 0;
        // A card is good through the last day of its expiry month.
        return (year, month).CompareTo((now.Year, now.Month)) < 0 ? ExpiryInPast
            : year > now.Year + MaxYearsAhead ? InvalidExpiryYear
            : null;
    }
}
