using CheckoutService.Checkout;
using CheckoutService.Edge;

namespace CheckoutService.Tests;

public class ValidationUnitTests
{
    private static readonly ShippingAddress Springfield = new("742 Evergreen Terrace", "", "Springfield", "IL", "62704", "US");

    private static IReadOnlyList<FieldError> Errors(CheckoutRequest request) =>
        ValidationFailed.ErrorsOf(new CheckoutRequestValidator().Validate(request));

    private static CheckoutRequest Valid => new("cart_8a2f1bc9e3d7", "user4827@example.com", Springfield, "pm_stripe_4f9c2a1b");

    [Fact]
    public void Validate_TheLogsSuccessfulBody_HasNoErrors() => Assert.Empty(Errors(Valid));

    [Theory]
    [InlineData("user4827@example.com")]
    [InlineData("first.last+tag@sub.example.co.uk")]
    [InlineData("o'brien@example.ie")]
    [InlineData("\"quoted local\"@example.com")]
    public void Email_RfcAddresses_AreAccepted(string email) => Assert.True(FieldRules.IsEmail(email));

    [Theory]
    [InlineData("invalid-email-format")]
    [InlineData("a@b")]
    [InlineData("@example.com")]
    [InlineData("user@")]
    [InlineData("user@@example.com")]
    [InlineData("User <user@example.com>")]
    [InlineData("user@example.com, other@example.com")]
    [InlineData("user name@example.com")]
    [InlineData("user@[127.0.0.1]")]
    [InlineData("user@example.com.")]
    [InlineData("user@exa mple.com")]
    [InlineData("")]
    public void Email_NotABareDeliverableAddress_IsRejected(string email) => Assert.False(FieldRules.IsEmail(email));

    [Fact]
    public void Email_Invalid_HasTheLogsCodeMessageAndConstraint()
    {
        var error = Assert.Single(Errors(Valid with { Email = "invalid-email-format" }));
        Assert.Equal(new FieldError("email", "INVALID_FORMAT", "Email address is not valid", "RFC 5322 compliant email required"), error);
    }

    [Fact]
    public void Email_Over254Characters_IsTooLong() =>
        Assert.Equal("TOO_LONG", Assert.Single(Errors(Valid with { Email = new string('a', 250) + "@example.com" })).Code);

    [Theory]
    [InlineData(null, "REQUIRED")]
    [InlineData("", "REQUIRED")]
    [InlineData("8a2f1bc9e3d7", "INVALID_FORMAT")]
    [InlineData("cart_<script>", "INVALID_FORMAT")]
    public void CartId_MissingOrMalformed_IsReported(string? cartId, string code)
    {
        var error = Assert.Single(Errors(Valid with { CartId = cartId }));
        Assert.Equal(("cart_id", code), (error.Field, error.Code));
    }

    [Fact]
    public void CartId_Over64Characters_IsTooLong() =>
        Assert.Equal("TOO_LONG", Assert.Single(Errors(Valid with { CartId = "cart_" + new string('a', 60) })).Code);

    [Theory]
    [InlineData("pm_card visa")]
    [InlineData("card_4242")]
    public void PaymentMethodId_Malformed_IsInvalidFormat(string id) =>
        Assert.Equal(("payment_method_id", "INVALID_FORMAT"), Field(Assert.Single(Errors(Valid with { PaymentMethodId = id }))));

    [Theory]
    [InlineData("Line1", null, "shipping_address.line1", "REQUIRED")]
    [InlineData("City", "", "shipping_address.city", "REQUIRED")]
    [InlineData("State", "ZZ", "shipping_address.state", "INVALID_VALUE")]
    [InlineData("State", "Illinois", "shipping_address.state", "INVALID_VALUE")]
    [InlineData("Zip", "6270", "shipping_address.zip", "INVALID_FORMAT")]
    [InlineData("Zip", "62704-12", "shipping_address.zip", "INVALID_FORMAT")]
    [InlineData("Zip", "ABCDE", "shipping_address.zip", "INVALID_FORMAT")]
    [InlineData("Country", "CA", "shipping_address.country", "UNSUPPORTED_COUNTRY")]
    [InlineData("Country", null, "shipping_address.country", "REQUIRED")]
    [InlineData("Line1", "742 Evergreen\u0000Terrace", "shipping_address.line1", "INVALID_FORMAT")]
    [InlineData("Line2", "Apt 1\nInjected: log line", "shipping_address.line2", "INVALID_FORMAT")]
    public void Address_EachRule_ReportsItsFieldAndCode(string property, string? value, string field, string code)
    {
        var address = property switch
        {
            "Line1" => Springfield with { Line1 = value },
            "Line2" => Springfield with { Line2 = value },
            "City" => Springfield with { City = value },
            "State" => Springfield with { State = value },
            "Zip" => Springfield with { Zip = value },
            _ => Springfield with { Country = value },
        };
        Assert.Equal((field, code), Field(Assert.Single(Errors(Valid with { ShippingAddress = address }))));
    }

    [Theory]
    [InlineData("62704-1234")]
    [InlineData("00501")]
    public void Address_ZipPlusFour_IsAccepted(string zip) => Assert.Empty(Errors(Valid with { ShippingAddress = Springfield with { Zip = zip } }));

    [Fact]
    public void Address_LinesOverTheirLimit_AreTooLong()
    {
        var errors = Errors(Valid with { ShippingAddress = Springfield with { Line1 = new string('x', 101), City = new string('x', 65) } });
        Assert.Equal(
            [("shipping_address.line1", "TOO_LONG"), ("shipping_address.city", "TOO_LONG")],
            errors.Select(Field).ToArray());
    }

    [Fact]
    public void Address_UnicodeText_IsAccepted() =>
        Assert.Empty(Errors(Valid with { ShippingAddress = Springfield with { Line1 = "Straße 5 – Büro 3", City = "São Paulo" } }));

    [Fact]
    public void Validate_EveryFailingFieldIsListedAtOnce()
    {
        var errors = Errors(new CheckoutRequest("cart_ok", "nope", new ShippingAddress(null, null, null, "ZZ", "1", "FR"), "visa"));
        Assert.Equal(
            ["email", "shipping_address.line1", "shipping_address.city", "shipping_address.state", "shipping_address.zip", "shipping_address.country", "payment_method_id"],
            errors.Select(e => e.Field).ToArray());
    }

    private static (string, string) Field(FieldError e) => (e.Field, e.Code);
}
