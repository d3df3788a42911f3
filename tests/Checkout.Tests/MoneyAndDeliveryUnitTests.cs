using System.Text.Json;
using CheckoutService.Checkout;
using CheckoutService.Edge;

namespace CheckoutService.Tests;

public class MoneyUnitTests
{
    [Theory]
    [InlineData(129.5, "129.50")]
    [InlineData(47.99, "47.99")]
    [InlineData(215, "215.00")]
    [InlineData(0.01, "0.01")]
    public void Money_SerializesWithExactlyTwoDecimals(decimal amount, string json) =>
        Assert.Equal(json, JsonSerializer.Serialize(Money.FromDecimal(amount)));

    [Fact]
    public void Money_SumsExactlyWhereDoublesWouldNot()
    {
        var total = Money.Zero;
        for (var i = 0; i < 10; i++)
        {
            total += Money.FromDecimal(0.10m);
        }
        Assert.Equal(100, total.Cents);
        Assert.Equal("1.00", total.ToString());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0.001)]
    public void Money_RefusesNegativeOrSubCentAmounts(decimal amount) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Money.FromDecimal(amount));

    [Fact]
    public void Money_TimesQuantity_IsLineTotal() => Assert.Equal("59.97", (Money.FromDecimal(19.99m) * 3).ToString());
}

public class DeliveryEstimateUnitTests
{
    [Theory]
    [InlineData("2025-09-10T08:14:22Z", "2025-09-16T00:00:00Z")] // Wed: ships Thu, arrives Tue
    [InlineData("2025-09-12T23:59:59Z", "2025-09-18T00:00:00Z")] // Fri: ships Mon, arrives Thu
    [InlineData("2025-09-13T10:00:00Z", "2025-09-18T00:00:00Z")] // Sat: ships Mon, arrives Thu
    [InlineData("2025-09-14T10:00:00Z", "2025-09-18T00:00:00Z")] // Sun: ships Mon, arrives Thu
    [InlineData("2025-09-08T00:00:00Z", "2025-09-12T00:00:00Z")] // Mon: ships Tue, arrives Fri
    public void For_ShipsNextBusinessDayAndArrivesThreeBusinessDaysLater(string orderedAt, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            DeliveryEstimate.For(DateTimeOffset.Parse(orderedAt, System.Globalization.CultureInfo.InvariantCulture)));
}

public class FieldPathUnitTests
{
    [Theory]
    [InlineData("ShippingAddress.Zip", "shipping_address.zip")]
    [InlineData("Items[3].Sku", "items[3].sku")]
    [InlineData("Line1", "line1")]
    [InlineData("PaymentMethodId", "payment_method_id")]
    public void FromPropertyPath_SpellsFieldsAsTheApiDoes(string path, string field) =>
        Assert.Equal(field, FieldPath.FromPropertyPath(path));
}

public class BodyLimitsUnitTests
{
    [Theory]
    [InlineData(8 * 1024, "8 KB")]
    [InlineData(64 * 1024, "64 KB")]
    [InlineData(1000, "1000 bytes")]
    public void Describe_NamesTheLimitAsAPersonReadsIt(long bytes, string text) =>
        Assert.Equal(text, CheckoutService.Edge.BodyLimits.Describe(bytes));
}
