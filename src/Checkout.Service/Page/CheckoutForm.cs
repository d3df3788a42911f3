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
    public string? PaymentMethodId { get; set; }

    /// <summary>The total the page showed, posted back so the shopper pays it or nothing.</summary>
    public string? ExpectedTotal { get; set; }

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
        ("payment_method_id", "payment-method", "Card"),
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
