using CheckoutService.Checkout;
using CheckoutService.Edge;

namespace CheckoutService.Page;

/// <summary>What the page's form posts: the checkout request's fields, flat, as a browser sends them.</summary>
public sealed class CheckoutForm
{
    public string? Email { get; set; }
    public string? Line1 { get; set; }
    public string? Line2 { get; set; }
    public string? City { get; set; }
    public string? State { get; set; }
    public string? Zip { get; set; }
    public string? Country { get; set; } = "US";
    /// <summary>The card's <c>pm_…</c> id from the payment provider: the only trace of the card this form ever holds.</summary>
    public string? PaymentMethodId { get; set; }

    /// <summary>How the card is shown once chosen ("Visa •••• 4242"), as the provider described it.</summary>
    public string? CardBrand { get; set; }

    public string? CardLast4 { get; set; }

    /// <summary>The button that posted the form: <see cref="HostedCardAction"/>, or none for Pay.</summary>
    public string? Action { get; set; }

    public const string HostedCardAction = "hosted-card";

    /// <summary>The total the page showed, posted back so the shopper pays it or nothing.</summary>
    public string? ExpectedTotal { get; set; }

    public string CardLabel => (CardBrand, CardLast4) switch
    {
        ({ } brand, { } last4) when Brands.TryGetValue(brand, out var name) => $"{name} •••• {last4}",
        (_, { } last4) => $"Card •••• {last4}",
        _ => "Your card",
    };

    private static readonly Dictionary<string, string> Brands = new(StringComparer.Ordinal)
    {
        ["visa"] = "Visa", ["mastercard"] = "Mastercard", ["amex"] = "American Express", ["discover"] = "Discover",
        ["diners"] = "Diners Club", ["jcb"] = "JCB", ["unionpay"] = "UnionPay",
    };

    /// <summary>The shopper's details as their guest session holds them.</summary>
    public void Fill(string email, ShippingAddress? address)
    {
        Email = email;
        if (address is not null)
        {
            (Line1, Line2, City, State, Zip, Country) = (address.Line1, address.Line2, address.City, address.State, address.Zip, address.Country);
        }
    }

    /// <summary>The card to pay with, or none; brand and last 4 only as the provider's own words, for showing.</summary>
    public void UseCard(string? paymentMethodId, string? brand, string? last4)
    {
        PaymentMethodId = paymentMethodId;
        CardBrand = brand is not null && Brands.ContainsKey(brand) ? brand : null;
        CardLast4 = last4 is { Length: 4 } && last4.All(char.IsAsciiDigit) ? last4 : null;
    }

    public static bool IsPaymentMethodId(string? value) =>
        value is { Length: > 3 and <= 255 } && value.StartsWith("pm_", StringComparison.Ordinal) && value[3..].All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    public CheckoutRequest ToRequest(string cartId) => new(
        cartId, Email, new ShippingAddress(Line1, Line2, City, State, Zip, Country), string.IsNullOrWhiteSpace(PaymentMethodId) ? null : PaymentMethodId,
        ExpectedTotalAmount());

    // A total that is not a number was not shown by the page: it is sent as one the validator refuses, never dropped.
    private decimal? ExpectedTotalAmount() =>
        string.IsNullOrWhiteSpace(ExpectedTotal) ? null
        : decimal.TryParse(ExpectedTotal, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var total) ? total
        : decimal.MinusOne;
}

/// <summary>The page's fields by the API's names, so its validation messages land next to the right input.</summary>
public static class PageFields
{
    public static readonly (string ApiField, string InputId, string Label)[] All =
    [
        ("email", "email", "Email"),
        ("shipping_address.line1", "line1", "Address"),
        ("shipping_address.line2", "line2", "Apartment, suite (optional)"),
        ("shipping_address.city", "city", "City"),
        ("shipping_address.state", "state", "State"),
        ("shipping_address.zip", "zip", "ZIP code"),
        ("shipping_address.country", "country", "Country"),
        ("payment_method_id", "hosted-card", "Card"),
    ];

    /// <summary>The form property an API field is posted as.</summary>
    public static string NameOf(string apiField) => apiField switch
    {
        "payment_method_id" => nameof(CheckoutForm.PaymentMethodId),
        _ => System.Globalization.CultureInfo.InvariantCulture.TextInfo.ToTitleCase(apiField[(apiField.LastIndexOf('.') + 1)..]),
    };

    public static string InputOf(string apiField) =>
        All.FirstOrDefault(f => f.ApiField == apiField).InputId ?? (apiField == "shipping_address" ? "line1" : "email");
}
